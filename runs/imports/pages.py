"""One page of an import: which of its traces are new or changed (the plan), then parse and write them.

The plan is made before the page before it is written, and its traces are read from MLflow on a reader
thread meanwhile (`PagePlan.read_ahead`), so the import's writes overlap MLflow's reads. Only MLflow is
touched on that thread; the database only here, on the import's own.
"""

from __future__ import annotations

import gc
import json
import logging
from collections import Counter
from concurrent.futures import Executor, Future
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction

from runs.fleet.models import Attempt
from runs.github.links import github_web_url
from runs.imports.attempts import attempt_lookups, attempt_upsert, attempts_store, targets_refresh
from runs.imports.mlflow import TraceSource
from runs.imports.parsed import ParsedAttempt
from runs.imports.traces import TraceRejected, TraceSkipped, has_fleet_tags, info_fingerprint, is_finished, parse_trace

logger = logging.getLogger(__name__)

MAX_ERROR_ROWS = 1000


@dataclass
class Tally:
    seen: int = 0
    imported: int = 0
    updated: int = 0
    skipped: int = 0
    errors: int = 0
    skip_reasons: Counter = field(default_factory=Counter)
    error_rows: list[tuple[str, str]] = field(default_factory=list)

    def skip(self, reason: str) -> None:
        self.skipped += 1
        self.skip_reasons[reason] += 1

    def error(self, trace_id: str, reason: str) -> None:
        self.errors += 1
        if len(self.error_rows) < MAX_ERROR_ROWS:
            self.error_rows.append((trace_id, reason[:2000]))


@dataclass
class PagePlan:
    tally: Tally
    highest: int
    known: dict[str, str]
    to_load: list[tuple[Any, str]]
    loaded: Future | None = None

    def read_ahead(self, reader: Executor, source: TraceSource) -> None:
        """Start reading this page's traces with spans on `reader`, while the page before is written."""
        if self.to_load:
            self.loaded = reader.submit(source.load, [info.trace_id for info, _ in self.to_load])

    def traces(self, source: TraceSource) -> dict[str, Any]:
        if not self.to_load:
            return {}
        if self.loaded is None:
            return source.load([info.trace_id for info, _ in self.to_load])
        return self.loaded.result()  # an error of the read is raised here, on the import's thread


def page_plan(infos: list[Any], tally: Tally) -> PagePlan:
    """Count the page, skip what is not ours, unfinished or unchanged since the last import."""
    tally.seen += len(infos)
    highest = 0
    candidates = []
    for info in infos:
        if info.request_time is not None and info.execution_duration is not None:
            highest = max(highest, info.request_time + info.execution_duration)
        if not has_fleet_tags(info):
            tally.skip("no fleet.* tags")
        elif not is_finished(info):
            tally.skip("still in progress")
        else:
            candidates.append(info)
    known = dict(
        Attempt.objects.filter(trace_id__in=[info.trace_id for info in candidates]).values_list(
            "trace_id", "fingerprint"
        )
    )
    to_load = []
    for info in candidates:
        fingerprint = info_fingerprint(info)
        if known.get(info.trace_id) == fingerprint:
            tally.skip("unchanged since the last import")
        else:
            to_load.append((info, fingerprint))
    return PagePlan(tally=tally, highest=highest, known=known, to_load=to_load)


def page_store(plan: PagePlan, source: TraceSource, *, output_cap: int) -> int:
    """Parse and write a planned page in one transaction; returns the latest end time among its traces."""
    if not plan.to_load:
        return plan.highest
    traces = plan.traces(source)
    # A page allocates tens of thousands of short-lived objects (ORM rows, spans) and no
    # reference cycles worth collecting mid-page: the cyclic collector only slows it down.
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        _store(plan, traces, source, output_cap=output_cap)
    finally:
        if gc_was_enabled:
            gc.enable()
    return plan.highest


def _store(plan: PagePlan, traces: dict[str, Any], source: TraceSource, *, output_cap: int) -> None:
    tally, known = plan.tally, plan.known
    github_url = github_web_url()
    new_items: list[tuple[ParsedAttempt, str]] = []
    changed_items: list[tuple[ParsedAttempt, str]] = []
    for info, fingerprint in plan.to_load:
        trace = traces.get(info.trace_id)
        expected = None
        if trace is None:
            trace = source.load_partial(info.trace_id)
            expected = _expected_spans(info)
            if trace is None or not trace.data.spans:
                tally.error(info.trace_id, "no spans could be read: the trace's spans were lost in export")
                continue
        parsed = _parse(trace, tally, output_cap=output_cap, expected=expected, github_url=github_url)
        if parsed is not None:
            (changed_items if info.trace_id in known else new_items).append((parsed, fingerprint))

    touched: set[tuple[int, int]] = set()
    stored_ids: set[str] = set()
    with transaction.atomic():
        if new_items:
            try:
                with transaction.atomic():
                    stored = attempts_store(items=new_items)
                tally.imported += len(stored)
                touched.update((a.migration_id, a.repository_id) for a in stored)
                stored_ids.update(a.trace_id for a in stored)
            except IntegrityError:
                # Another import wrote some of these meanwhile: fall back to one at a time.
                changed_items = new_items + changed_items
        lookups = attempt_lookups(changed_items) if changed_items else None
        for parsed, fingerprint in changed_items:
            attempt = _upsert_one(parsed, fingerprint, tally, was_known=parsed.trace_id in known, lookups=lookups)
            if attempt is not None:
                touched.add((attempt.migration_id, attempt.repository_id))
                stored_ids.add(attempt.trace_id)
        targets_refresh(pairs=touched)
    # A refused pull request link is an error of the import, though its attempt was stored.
    for parsed in {parsed.trace_id: parsed for parsed, _ in new_items + changed_items}.values():
        if parsed.trace_id in stored_ids:
            for reason in parsed.link_errors:
                tally.error(parsed.trace_id, f"{reason}: the attempt was imported without this link")


def _parse(trace, tally: Tally, *, output_cap: int, expected: int | None, github_url: str) -> ParsedAttempt | None:
    trace_id = trace.info.trace_id
    try:
        return parse_trace(
            trace,
            output_cap=output_cap,
            expected_spans=expected,
            github_url=github_url,
            prices=settings.FLEETUI_MODEL_PRICES,
        )
    except TraceSkipped as exc:
        tally.skip(str(exc))
    except TraceRejected as exc:
        tally.error(trace_id, str(exc))
    except Exception as exc:  # a trace we cannot read must not stop the others
        logger.warning("trace %s could not be parsed", trace_id, exc_info=True)
        tally.error(trace_id, f"unreadable trace ({type(exc).__name__}: {str(exc)[:300]})")
    return None


def _upsert_one(parsed: ParsedAttempt, fingerprint: str, tally: Tally, *, was_known: bool, lookups):
    try:
        with transaction.atomic():
            attempt = attempt_upsert(parsed=parsed, fingerprint=fingerprint, lookups=lookups)
    except IntegrityError as exc:
        tally.error(parsed.trace_id, f"could not be stored: {str(exc)[:300]}")
        return None
    if was_known:
        tally.updated += 1
    else:
        tally.imported += 1
    return attempt


def _expected_spans(info: Any) -> int | None:
    stats = (info.trace_metadata or {}).get("mlflow.trace.sizeStats")
    try:
        return int(json.loads(stats)["num_spans"]) if stats else None
    except (ValueError, KeyError, TypeError):
        return None
