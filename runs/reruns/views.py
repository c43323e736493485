"""Rerun pages: the rerun form (selection, prompt editor, diff, confirm), the batch list and live batch page.

Other pages start a rerun by sending the selection to `rerun-new` (GET or POST):
`repos` (repeated owner/name), `cluster` (a cluster id), `exclude` (repeated owner/name),
`include_pre_existing` ("1" to keep repositories whose baseline already failed),
optionally `prompt` (edited prompt text), and for a canary `canary=1` with `canary_size` (repositories)
or `canary_percent` (of the selection), `canary_min_fixed` and `canary_max_new_cluster` (percentages).
The page previews; `confirm=1` creates the batch.
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
from runs.reruns.canary import canary_repositories_choose, default_max_new_cluster_share, rerun_canary_expand
from runs.reruns.canary_rules import CanaryInvalid, CanarySpec, canary_size_for, canary_spec_parse
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
    rerun_canary_progress,
    rerun_item_list,
    rerun_outcomes_settled,
    rerun_still_failing_repos,
)
from runs.reruns.services import rerun_batch_cancel, rerun_batch_create, rerun_batch_retry_failed
from triage.clusters.costs import cluster_fix_rates, expected_rerun_cost
from triage.clusters.fixes.prompt import fix_example_from_param, prompt_with_example

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


def _percent(data, key: str):
    text = (data.get(key) or "").strip()
    if not text:
        return None
    try:
        return float(text) / 100
    except ValueError:
        raise RerunRefused(f"{key.replace('_', ' ')} must be a percentage, got {text[:20]!r}") from None


def _canary_params(data) -> tuple[dict, CanarySpec | None]:
    """The canary fields as typed (for the form) and the canary they ask for, or None when it is off."""
    default_share = default_max_new_cluster_share()
    form = {
        "on": data.get("canary") in ("1", "true", "on"),
        "size": (data.get("canary_size") or "").strip()[:12],
        "percent": (data.get("canary_percent") or "").strip()[:12],
        "min_fixed": (data.get("canary_min_fixed") or "60").strip()[:12],
        "max_new_cluster": (data.get("canary_max_new_cluster") or f"{default_share * 100:g}").strip()[:12],
    }
    if not form["on"]:
        return form, None
    raw: dict = {"min_fixed": _percent(data, "canary_min_fixed") if data.get("canary_min_fixed") else 0.6}
    if form["size"]:
        try:
            raw["size"] = int(form["size"])
        except ValueError:
            raise RerunRefused(f"canary size must be a whole number, got {form['size']!r}") from None
    if form["percent"]:
        raw["fraction"] = _percent(data, "canary_percent")
    if data.get("canary_max_new_cluster"):
        raw["max_new_cluster_share"] = _percent(data, "canary_max_new_cluster")
    try:
        return form, canary_spec_parse(raw, default_max_new_cluster_share=default_share)
    except CanaryInvalid as exc:
        raise RerunRefused(str(exc)) from None


def rerun_new(request, slug: str):
    """Preview a selection with the prompt editor and diff; `confirm=1` (POST) creates the batch."""
    migration = get_object_or_404(Migration, slug=slug)
    if (denied := migration_act_or_403(request, migration)) is not None:
        return denied
    data = request.POST if request.method == "POST" else request.GET
    current = prompt_revision_current(migration=migration)
    current_text = current.text if current else ""
    prompt = normalize_prompt(data["prompt"]) if "prompt" in data else current_text
    example = fix_example_from_param(data.get("example", ""), migration_id=migration.pk) if "prompt" not in data else ""
    if example:  # "Use as an example in the prompt" on a cluster's page: a fix from elsewhere, as a worked example
        prompt = normalize_prompt(prompt_with_example(prompt, example))
    context = {"migration": migration, "current": current, "prompt": prompt, "nav": "reruns", "example": bool(example)}
    try:
        params = _selection_params(data, migration)
        context["params"] = params
        context["canary_form"], canary = _canary_params(data)
        if request.method == "POST" and data.get("confirm") == "1":
            batch = rerun_batch_create(
                migration=migration,
                user=request.user,
                prompt=prompt if prompt != current_text else None,
                canary=canary,
                **params,
            )
            messages.success(
                request,
                f"Rerun #{batch.pk} queued: {batch.items.count()} repositories"
                + (f", {len(batch.skipped)} skipped" if batch.skipped else "")
                + (f"; a canary of {batch.canary_size} runs first" if canary else "")
                + ".",
            )
            return redirect("rerun-detail", batch_id=batch.pk)
        selection = rerun_selection_resolve(migration=migration, **params)
    except RerunRefused as exc:
        context["refused"] = str(exc)
        return render(request, "reruns/new.html", context, status=400 if request.method == "POST" else 200)
    cluster_id = params["cluster_id"]
    if canary is not None:
        size = canary_size_for(len(selection.targets), canary)
        context["canary_ids"] = canary_repositories_choose(
            targets=selection.targets, source_clusters=selection.source_clusters, size=size
        )
        context["canary_held"] = len(selection.targets) - size
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
    canary = rerun_canary_progress(batch=batch)
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
        "canary": canary,
        # The paused canary's "edit the prompt" form sends the same repositories again (a cluster sends its id).
        "canary_repos": list(batch.items.values_list("repository__full_name", flat=True))
        if canary is not None and batch.phase == "paused" and not batch.source_cluster_id
        else [],
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
def rerun_expand(request, batch_id: int):
    """An owner expands a canary anyway, after the confirmation on the batch page."""
    batch = _batch_or_404(batch_id)
    if (denied := migration_act_or_403(request, batch.migration)) is not None:
        return denied
    released = rerun_canary_expand(batch=batch, user=request.user)
    if released is None:
        messages.info(request, "Nothing to expand: this rerun is not a running or paused canary.")
    else:
        messages.success(request, f"Expanded: {released} held repositories queued.")
    return redirect("rerun-detail", batch_id=batch.pk)


@require_POST
def rerun_retry(request, batch_id: int):
    batch = _batch_or_404(batch_id)
    if (denied := migration_act_or_403(request, batch.migration)) is not None:
        return denied
    retried = rerun_batch_retry_failed(batch=batch, user=request.user)
    messages.success(request, f"Queued {retried} failed repositories again.")
    return redirect("rerun-detail", batch_id=batch.pk)
