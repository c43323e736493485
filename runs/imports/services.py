"""Imports agent traces from MLflow: incremental, exactly once, tolerant of damage.

Each experiment is read from its watermark (the latest trace end time already read)
minus a rewind window, so sessions that started before the last import and ended after
it are still read, and so are traces exported late. Traces are upserted by trace id and
skipped when their content has not changed, so re-reading is harmless. Each page of
traces is written in one transaction, each trace in its own savepoint: a crash loses
nothing committed and leaves no half-written trace; the watermark moves only once an
experiment has been read to the end.

A worker running an import beats for it (`fleetui.common.models.Liveness`); an import whose
worker stopped beating is taken back by the next scheduled import (`import_runs_recover`),
queued again and run from the start, and what its late original would still write is fenced
off by the claim token.
"""

from __future__ import annotations

import logging
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from fleetui.common.liveness import ClaimLost, heartbeat
from fleetui.common.models import Recovered
from fleetui.common.roles import real_user
from runs.fleet.audit import audit_event_record
from runs.imports.mlflow import TraceSource, TraceSourceUnavailable
from runs.imports.models import ImportRun, ImportRunError, ImportWatermark
from runs.imports.pages import PagePlan, Tally, page_plan, page_store
from runs.imports.signals import import_finished
from runs.imports.traces import has_fleet_tags

logger = logging.getLogger(__name__)


def import_run_enqueue(*, trigger: str, user: Any = None) -> ImportRun:
    """Creates a queued import run and hands it to a worker once the transaction commits."""
    from runs.imports.tasks import import_traces_task

    run = ImportRun.objects.create(
        trigger=trigger, requested_by=real_user(user), tracking_uri=settings.MLFLOW_TRACKING_URI
    )
    if user is not None:
        audit_event_record(actor=user, verb="import.requested", target=run, data={"trigger": trigger})
    transaction.on_commit(partial(import_traces_task.delay, run.pk))
    return run


def import_run_execute(
    *,
    run_id: int | None = None,
    trigger: str = "schedule",
    full: bool = False,
    tracking_uri: str | None = None,
    experiments: list[str] | None = None,
) -> ImportRun:
    """Runs one import (the queued run `run_id`, or a new one) and returns it finished."""
    tracking_uri = tracking_uri or settings.MLFLOW_TRACKING_URI
    if run_id is None:
        run = ImportRun.objects.create(
            trigger=trigger,
            tracking_uri=tracking_uri,
            status=ImportRun.Status.RUNNING,
            started_at=timezone.now(),
            **ImportRun.claim_fields(),
        )
    else:
        # Claim the run: a redelivered task finds it no longer queued and does nothing.
        run = ImportRun.objects.get(pk=run_id)
        if not run.claim(tracking_uri=tracking_uri):
            logger.info("import run %s is already %s; nothing to do", run_id, run.status)
            return run
    try:
        # The thread keeps the heartbeat fresh through long pages; between pages the run checks it still holds it.
        with heartbeat(run):
            source = TraceSource(tracking_uri)
            wanted = experiments if experiments is not None else settings.MLFLOW_EXPERIMENTS
            found = source.experiments(wanted)
            ImportRun.objects.filter(pk=run.pk, claim_token=run.claim_token).update(
                experiments=[e.experiment_id for e in found]
            )
            message = "" if found else "no experiments to read in MLflow"
            for experiment in found:
                _import_experiment(run, source, experiment.experiment_id, tracking_uri=tracking_uri, full=full)
            _check_claim(run)
        import_finished.send(sender=ImportRun, run=run)
        _finish(run, ImportRun.Status.SUCCEEDED, message)
    except ClaimLost:
        logger.warning("import run %s was taken back from this worker; it stops here", run.pk)
    except TraceSourceUnavailable as exc:
        _finish(run, ImportRun.Status.FAILED, f"{exc} (tracking URI {_redact(tracking_uri)})")
    except Exception as exc:
        logger.exception("import run %s failed", run.pk)
        _finish(run, ImportRun.Status.FAILED, f"{type(exc).__name__}: {str(exc)[:500]}")
    run.refresh_from_db()
    return run


def _check_claim(run: ImportRun) -> None:
    """Beat once more; stop when the run is no longer this worker's."""
    if not run.beat():
        raise ClaimLost()


def _import_experiment(run: ImportRun, source: TraceSource, experiment_id: str, *, tracking_uri: str, full: bool):
    watermark, _ = ImportWatermark.objects.get_or_create(tracking_uri=tracking_uri, experiment_id=experiment_id)
    rewind_ms = settings.IMPORT_REWIND_SECONDS * 1000
    since = 0 if full or watermark.end_time_ms == 0 else max(0, watermark.end_time_ms - rewind_ms)
    highest = watermark.end_time_ms
    pages = source.trace_infos(
        experiment_id, filter_string=f"trace.end_time_ms >= {since}", page_size=settings.IMPORT_PAGE_SIZE
    )
    # Pipelined: while one page is parsed and written, the next page's traces are read from MLflow.
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="fleetui-import-read") as reader:
        pending: PagePlan | None = None
        for infos in pages:
            # Between pages: a run taken back from this worker stops before it writes another page.
            _check_claim(run)
            plan = page_plan(infos, Tally())
            plan.read_ahead(reader, source)
            if pending is not None:
                highest = max(highest, _write_page(run, pending, source))
            pending = plan
        if pending is not None:
            _check_claim(run)
            highest = max(highest, _write_page(run, pending, source))
    # Still-running sessions have no end time: count them so the page shows they exist.
    running = 0
    for infos in source.trace_infos(
        experiment_id, filter_string="trace.status = 'IN_PROGRESS'", page_size=settings.IMPORT_PAGE_SIZE
    ):
        running += sum(1 for info in infos if has_fleet_tags(info))
    if running:
        _record(run, Tally(seen=running, skipped=running, skip_reasons=Counter({"still in progress": running})))
    _check_claim(run)
    ImportWatermark.objects.filter(pk=watermark.pk).update(end_time_ms=highest)
    ImportRun.objects.filter(Q(watermark_ms__isnull=True) | Q(watermark_ms__lt=highest), pk=run.pk).update(
        watermark_ms=highest
    )


def _write_page(run: ImportRun, plan: PagePlan, source: TraceSource) -> int:
    ended = _import_page(plan, source, output_cap=settings.VERIFIER_OUTPUT_CAP)
    _record(run, plan.tally)
    return ended


def _import_page(plan: PagePlan, source: TraceSource, *, output_cap: int) -> int:
    """Writes one planned page; returns the latest end time among its traces."""
    return page_store(plan, source, output_cap=output_cap)


def _record(run: ImportRun, tally: Tally) -> None:
    """Adds a page's counts and errors to the run, so the page shows progress as it goes.

    Only while the run is still this worker's claim: a run taken back keeps the counts its retry makes.
    """
    with transaction.atomic():
        held = ImportRun.objects.select_for_update().filter(pk=run.pk, claim_token=run.claim_token).first()
        if held is None:
            return
        counts = {
            "seen": F("seen") + tally.seen,
            "imported": F("imported") + tally.imported,
            "updated": F("updated") + tally.updated,
            "skipped": F("skipped") + tally.skipped,
            "errors": F("errors") + tally.errors,
        }
        if tally.skip_reasons:
            counts["skip_reasons"] = dict(Counter(held.skip_reasons) + tally.skip_reasons)
        ImportRun.objects.filter(pk=run.pk).update(**counts)
        if tally.error_rows:
            ImportRunError.objects.bulk_create(
                ImportRunError(run_id=run.pk, trace_id=trace_id, reason=reason) for trace_id, reason in tally.error_rows
            )


def _finish(run: ImportRun, status: str, message: str) -> None:
    # Fenced by the run's claim: a run taken back meanwhile keeps what its retry writes.
    run.finish(status, message=message[:5000])


def import_runs_recover() -> Recovered:
    """Take back, exactly once each, import runs whose worker stopped beating, and send the retried ones again.

    A retried run is queued again with its counts and errors cleared (its retry reads from the start and
    recounts); on its RECOVERY_LIMIT-th recovery it fails with the reason, for a person to look at.
    """
    from runs.imports.tasks import import_traces_task

    limit = ImportRun.RECOVERY_LIMIT
    recovered = ImportRun.recover_stale(
        retry_fields={
            "message": "its worker stopped; queued again",
            "started_at": None,
            "seen": 0,
            "imported": 0,
            "updated": 0,
            "skipped": 0,
            "errors": 0,
            "skip_reasons": {},
        },
        give_up_fields={
            "message": f"its worker stopped {limit} times during this import; it needs a person",
            "finished_at": timezone.now(),
        },
    )
    if recovered.retried:
        ImportRunError.objects.filter(run_id__in=recovered.retried).delete()
        logger.warning("import runs %s lost their worker; queued again", recovered.retried)
        for pk in recovered.retried:
            transaction.on_commit(partial(import_traces_task.delay, pk))
    if recovered.given_up:
        logger.warning("import runs %s lost their worker %d times; failed", recovered.given_up, limit)
    return recovered


def import_running_elsewhere() -> bool:
    """Whether an import is running on a worker that is still beating."""
    return ImportRun.objects.filter(ImportRun.live_q()).exists()


def _redact(uri: str) -> str:
    """Hides credentials in a tracking URI before it is shown."""
    if "@" in uri and "://" in uri:
        scheme, rest = uri.split("://", 1)
        return f"{scheme}://***@{rest.split('@', 1)[1]}"
    return uri
