"""Rerun pages: the rerun form (selection, prompt editor, diff, confirm), the batch list and live batch page.

Other pages start a rerun by sending the selection to `rerun-new` (GET or POST):
`repos` (repeated owner/name), `cluster` (a cluster id), `exclude` (repeated owner/name),
`include_pre_existing` ("1" to keep repositories whose baseline already failed) and
optionally `prompt` (edited prompt text). The page previews; `confirm=1` creates the batch.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.template.response import TemplateResponse
from django.views.decorators.http import require_POST

from runs.fleet.forms import repository_names_selected
from runs.fleet.models import Migration
from runs.fleet.ownership import migration_act_or_403
from runs.reruns.models import OUTCOME_BADGES, RerunOutcome
from runs.reruns.selection import (
    RerunRefused,
    normalize_prompt,
    prompt_diff,
    prompt_revision_current,
    rerun_selection_resolve,
)
from runs.reruns.selectors import (
    rerun_batch_counts,
    rerun_batch_get,
    rerun_batch_list,
    rerun_batch_outcome_counts,
    rerun_batch_status,
    rerun_before_after,
    rerun_item_list,
    rerun_outcomes_settled,
    rerun_still_failing_repos,
)
from runs.reruns.services import rerun_batch_cancel, rerun_batch_create, rerun_batch_retry_failed
from triage.clusters.costs import cluster_fix_rates, expected_rerun_cost

ITEMS_PER_PAGE = 100
PREVIEW_ROWS = 200


def _selection_params(data, migration) -> dict:
    cluster = (data.get("cluster") or "").strip()
    try:
        cluster_id = int(cluster) if cluster else None
    except ValueError:
        raise RerunRefused(f"cluster must be a number, got {cluster[:40]!r}") from None
    return {
        "repos": repository_names_selected(migration=migration, data=data),
        "cluster_id": cluster_id,
        "exclude": [r for r in data.getlist("exclude") if r.strip()],
        "include_pre_existing": data.get("include_pre_existing") in ("1", "true", "on"),
    }


def rerun_new(request, slug: str):
    """Preview a selection with the prompt editor and diff; `confirm=1` (POST) creates the batch."""
    migration = get_object_or_404(Migration, slug=slug)
    if (denied := migration_act_or_403(request, migration)) is not None:
        return denied
    data = request.POST if request.method == "POST" else request.GET
    current = prompt_revision_current(migration=migration)
    current_text = current.text if current else ""
    prompt = normalize_prompt(data["prompt"]) if "prompt" in data else current_text
    context = {"migration": migration, "current": current, "prompt": prompt, "nav": "reruns"}
    try:
        params = _selection_params(data, migration)
        context["params"] = params
        if request.method == "POST" and data.get("confirm") == "1":
            batch = rerun_batch_create(
                migration=migration, user=request.user, prompt=prompt if prompt != current_text else None, **params
            )
            messages.success(
                request,
                f"Rerun #{batch.pk} queued: {batch.items.count()} repositories"
                + (f", {len(batch.skipped)} skipped" if batch.skipped else "")
                + ".",
            )
            return redirect("rerun-detail", batch_id=batch.pk)
        selection = rerun_selection_resolve(migration=migration, **params)
    except RerunRefused as exc:
        context["refused"] = str(exc)
        return render(request, "reruns/new.html", context, status=400 if request.method == "POST" else 200)
    cluster_id = params["cluster_id"]
    context.update(
        selection=selection,
        count=len(selection.targets),
        expected_cost=expected_rerun_cost(
            migration_id=migration.pk, repository_ids=[t.repository_id for t in selection.targets]
        ),
        past_fix_rate=cluster_fix_rates(cluster_ids=[cluster_id])[cluster_id] if cluster_id else None,
        preview=selection.targets[:PREVIEW_ROWS],
        diff=prompt_diff(
            current_text, prompt, old_label=f"r{current.number}" if current else "none", new_label="edited"
        )
        if prompt != current_text
        else [],
    )
    return render(request, "reruns/new.html", context)


def rerun_list(request):
    page = Paginator(rerun_batch_list(), 50).get_page(request.GET.get("page"))
    return render(request, "reruns/list.html", {"page": page, "batches": page.object_list, "nav": "reruns"})


def _batch_or_404(batch_id: int):
    batch = rerun_batch_get(batch_id=batch_id)
    if batch is None:
        raise Http404("no such rerun")
    return batch


# Shown even at zero, so a batch reads "0 fixed"; the others only when some item has them.
HEADLINE_OUTCOMES = (
    RerunOutcome.FIXED,
    RerunOutcome.STILL_FAILING,
    RerunOutcome.NEW_FAILURE,
    RerunOutcome.RUNNER_FAILED,
)


def outcome_rows(outcome_counts: dict[str, int]) -> list[tuple[str, str, int, str]]:
    """(value, label, count, badge class) per outcome worth showing, in the model's order."""
    return [
        (o.value, o.label, outcome_counts[o.value], OUTCOME_BADGES[o])
        for o in RerunOutcome
        if outcome_counts[o.value] or o in HEADLINE_OUTCOMES
    ]


def _status_context(request, batch) -> dict:
    counts = rerun_batch_counts(batch=batch)
    outcome_counts = rerun_batch_outcome_counts(batch=batch)
    page = Paginator(rerun_item_list(batch=batch), ITEMS_PER_PAGE).get_page(request.GET.get("page"))
    return {
        "batch": batch,
        "counts": counts,
        "outcome_counts": outcome_counts,
        "outcome_rows": outcome_rows(outcome_counts),
        # Poll until every item's outcome is final: runner done, new attempt imported, linked and clustered.
        "settled": rerun_outcomes_settled(outcome_counts),
        "still_failing": rerun_still_failing_repos(batch=batch),
        "status": rerun_batch_status(counts, batch),
        "page": page,
        "items": page.object_list,
        "before_after": rerun_before_after(batch=batch),
        "nav": "reruns",
    }


def rerun_detail(request, batch_id: int):
    batch = _batch_or_404(batch_id)
    return render(request, "reruns/detail.html", _status_context(request, batch))


def rerun_status(request, batch_id: int):
    """The live partial the batch page polls until every item's outcome is settled."""
    batch = _batch_or_404(batch_id)
    return TemplateResponse(request, "reruns/detail.html#status", _status_context(request, batch))


@require_POST
def rerun_cancel(request, batch_id: int):
    batch = _batch_or_404(batch_id)
    if (denied := migration_act_or_403(request, batch.migration)) is not None:
        return denied
    cancelled = rerun_batch_cancel(batch=batch, user=request.user)
    messages.success(request, f"Cancelled {cancelled} repositories not yet dispatched; runs already started finish.")
    return redirect("rerun-detail", batch_id=batch.pk)


@require_POST
def rerun_retry(request, batch_id: int):
    batch = _batch_or_404(batch_id)
    if (denied := migration_act_or_403(request, batch.migration)) is not None:
        return denied
    retried = rerun_batch_retry_failed(batch=batch, user=request.user)
    messages.success(request, f"Queued {retried} failed repositories again.")
    return redirect("rerun-detail", batch_id=batch.pk)
