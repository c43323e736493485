"""JSON API for reruns, and the callback a runner service uses to report a run's end."""

from __future__ import annotations

from django.conf import settings
from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt

from fleetui.common.api import ApiError, api_view, iso, json_body, paginate, string_list
from runs.fleet.api import migration_or_404
from runs.fleet.ownership import migration_act_or_403
from runs.reruns.canary import default_max_new_cluster_share, rerun_canary_expand
from runs.reruns.canary_rules import CanaryInvalid, canary_spec_parse
from runs.reruns.dispatch import rerun_callback_apply
from runs.reruns.models import RerunBatch
from runs.reruns.runners.http import SIGNATURE_HEADER, signature_valid
from runs.reruns.selection import RerunRefused
from runs.reruns.selectors import (
    STATE_ORDER,
    rerun_batch_counts,
    rerun_batch_get,
    rerun_batch_list,
    rerun_batch_outcome_counts,
    rerun_batch_status,
    rerun_before_after,
    rerun_canary_progress,
    rerun_item_list,
    rerun_outcomes_settled,
    rerun_still_failing_repos,
)
from runs.reruns.services import rerun_batch_cancel, rerun_batch_create, rerun_batch_retry_failed

# Far above any batch (RERUN_MAX_BATCH) yet small enough for one SQL query's parameters.
MAX_NAMES = 5000
SELECTION_FIELDS = ("repos", "cluster", "exclude", "prompt", "include_pre_existing", "canary")


def _names(body: dict, key: str) -> list[str]:
    return string_list(body, key, max_items=MAX_NAMES)


def batch_summary_json(batch: RerunBatch, counts: dict[str, int]) -> dict:
    outcomes = rerun_batch_outcome_counts(batch=batch)
    return {
        "id": batch.pk,
        "migration": batch.migration.slug,
        "status": rerun_batch_status(counts, batch),
        "done": batch.done,
        "counts": counts,
        "outcomes": outcomes,
        "settled": rerun_outcomes_settled(outcomes),
        "prompt_revision": batch.prompt_revision.number if batch.prompt_revision else None,
        "runner": batch.runner,
        "source_cluster": batch.source_cluster_id,
        "requested_by": batch.requested_by_name,
        "created_at": iso(batch.created_at),
        "finished_at": iso(batch.finished_at),
        "import_run": batch.import_run_id,
        "phase": batch.phase,
        "kind": batch.kind,
    }


def canary_json(batch: RerunBatch) -> dict | None:
    progress = rerun_canary_progress(batch=batch)
    if progress is None:
        return None
    return {
        "requested": batch.canary_requested or {},
        "size": batch.canary_size or 0,
        "min_fixed": batch.canary_min_fixed,
        "max_new_cluster_share": batch.canary_max_new_cluster_share,
        "settled": progress.settled,
        "fixed": progress.fixed,
        "failing": progress.failing,
        "held": progress.held,
        "phase_changed_at": iso(batch.phase_changed_at),
    }


def batch_json(batch: RerunBatch) -> dict:
    counts = rerun_batch_counts(batch=batch)
    return {
        **batch_summary_json(batch, counts),
        "skipped": batch.skipped,
        "canary": canary_json(batch),
        "paused_reason": batch.paused_reason or None,
        "still_failing": rerun_still_failing_repos(batch=batch),
        "items": [
            {
                "repo": item.repository.full_name,
                "state": item.state,
                "outcome": item.outcome,
                "tries": item.tries,
                "canary": item.canary,
                "error": item.error or None,
                "runner_ref": item.runner_ref or None,
                "source_attempt": item.source_attempt.trace_id if item.source_attempt else None,
                "result_attempt": item.result_attempt.trace_id if item.result_attempt else None,
            }
            for item in rerun_item_list(batch=batch)
        ],
        "before_after": [
            {
                "cluster": row.cluster_id,
                "title": row.title,
                "repos": row.repos,
                "passed": row.passed,
                "same_cluster": row.same_cluster,
                "other_cluster": row.other_cluster,
                "failed_unclustered": row.failed_unclustered,
                "pending": row.pending,
                "other_clusters": [{"cluster": c, "title": t, "repos": n} for c, t, n in row.other_clusters],
            }
            for row in rerun_before_after(batch=batch)
        ],
    }


@api_view("POST")
def migration_reruns(request, slug: str):
    """POST {"repos": [...]} or {"cluster": id, "exclude": [...]}, optional "prompt", "include_pre_existing" and
    "canary": {"size": n} or {"fraction": f}, with "min_fixed" and optionally "max_new_cluster_share"."""
    migration = migration_or_404(slug)
    if (denied := migration_act_or_403(request, migration)) is not None:
        return denied
    body = json_body(request, allowed=SELECTION_FIELDS)
    cluster = body.get("cluster")
    if cluster is not None and (not isinstance(cluster, int) or isinstance(cluster, bool)):
        raise ApiError(400, "cluster must be a cluster id (a whole number)")
    prompt = body.get("prompt")
    if prompt is not None and not isinstance(prompt, str):
        raise ApiError(400, "prompt must be a string")
    include = body.get("include_pre_existing", False)
    if not isinstance(include, bool):
        raise ApiError(400, "include_pre_existing must be true or false")
    canary = None
    if body.get("canary") is not None:
        try:
            canary = canary_spec_parse(body["canary"], default_max_new_cluster_share=default_max_new_cluster_share())
        except CanaryInvalid as exc:
            raise ApiError(400, str(exc)) from None
    try:
        batch = rerun_batch_create(
            migration=migration,
            user=request.user,
            repos=_names(body, "repos"),
            cluster_id=cluster,
            exclude=_names(body, "exclude"),
            include_pre_existing=include,
            prompt=prompt,
            canary=canary,
        )
    except RerunRefused as exc:
        raise ApiError(400, str(exc)) from None
    return JsonResponse(
        {
            "id": batch.pk,
            "items": batch.items.count(),
            "skipped": batch.skipped,
            "prompt_revision": batch.prompt_revision.number if batch.prompt_revision else None,
            "phase": batch.phase,
            "canary": batch.canary_size,
            "url": f"/api/reruns/{batch.pk}",
        },
        status=201,
    )


@api_view("GET")
def reruns(request):
    def serialize(rows):
        for batch in rows:
            counts = {state: getattr(batch, f"n_{state}") for state in STATE_ORDER}
            yield batch_summary_json(batch, counts)

    return JsonResponse(paginate(request, rerun_batch_list(), serialize))


def _batch_or_404(batch_id: int) -> RerunBatch:
    batch = rerun_batch_get(batch_id=batch_id)
    if batch is None:
        raise ApiError(404, f"no rerun {batch_id}")
    return batch


@api_view("GET")
def rerun_detail(request, batch_id: int):
    return JsonResponse(batch_json(_batch_or_404(batch_id)))


@api_view("POST")
def rerun_cancel(request, batch_id: int):
    batch = _batch_or_404(batch_id)
    if (denied := migration_act_or_403(request, batch.migration)) is not None:
        return denied
    cancelled = rerun_batch_cancel(batch=batch, user=request.user)
    return JsonResponse({"id": batch.pk, "cancelled": cancelled})


@api_view("POST")
def rerun_retry_failed(request, batch_id: int):
    batch = _batch_or_404(batch_id)
    if (denied := migration_act_or_403(request, batch.migration)) is not None:
        return denied
    retried = rerun_batch_retry_failed(batch=batch, user=request.user)
    return JsonResponse({"id": batch.pk, "retried": retried})


@api_view("POST")
def rerun_expand(request, batch_id: int):
    """Dispatch the held rest of a canary batch now, whatever its canary showed; a second call changes nothing."""
    batch = _batch_or_404(batch_id)
    if (denied := migration_act_or_403(request, batch.migration)) is not None:
        return denied
    if not batch.is_canary:
        raise ApiError(400, f"rerun #{batch.pk} did not start as a canary: there is nothing held to expand")
    if batch.cancelled_at is not None:
        raise ApiError(400, f"rerun #{batch.pk} was cancelled: start a new rerun instead")
    released = rerun_canary_expand(batch=batch, user=request.user)
    batch.refresh_from_db(fields=["phase"])
    return JsonResponse(
        {"id": batch.pk, "phase": batch.phase, "expanded": released is not None, "released": released or 0}
    )


@csrf_exempt
@api_view("POST")
def rerun_callback(request):
    """A runner service reports a run: {"idempotency_key", "state", "error"?, "output"?, "exit_code"?}, HMAC-signed."""
    signature = request.headers.get(SIGNATURE_HEADER, "")
    # A non-ASCII header cannot be a hex digest (and would make a str comparison raise).
    if not signature.isascii() or not signature_valid(settings.FLEETUI_RUNNER_SECRET, request.body, signature):
        raise ApiError(401, f"missing or wrong {SIGNATURE_HEADER}")
    body = json_body(request)
    key, state = body.get("idempotency_key"), body.get("state")
    if not isinstance(key, str) or not isinstance(state, str):
        raise ApiError(400, "idempotency_key and state are required strings")
    exit_code = body.get("exit_code")
    if exit_code is not None and (
        isinstance(exit_code, bool) or not isinstance(exit_code, int) or not -(2**31) <= exit_code < 2**31
    ):
        raise ApiError(400, "exit_code must be a whole number or null")
    try:
        applied = rerun_callback_apply(
            idempotency_key=key,
            state=state,
            error=str(body.get("error") or ""),
            output=str(body.get("output") or ""),
            exit_code=exit_code,
        )
    except ValueError as exc:
        raise ApiError(400, str(exc)) from None
    return JsonResponse({"applied": applied})
