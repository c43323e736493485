"""Pages: nudge drafts, sending and editing them, snoozing a team, and the nudge history."""

from datetime import timedelta

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from fleetui.common.redirects import next_url_or
from fleetui.common.roles import MIGRATION_OWNER, role_required
from notifications.nudges import selectors
from notifications.nudges.drafts import (
    DraftResult,
    DraftTextInvalid,
    NudgeNotSendable,
    cluster_repo_names,
    draft_lines_current,
    nudge_blocks,
    nudge_cancel,
    nudge_draft_leave_out_unready,
    nudge_draft_update,
    nudge_drafts_create,
    nudge_lines_apply,
)
from notifications.nudges.forms import DraftEditForm, NudgeCreateForm, SendForm, SnoozeForm
from notifications.nudges.models import Nudge
from notifications.nudges.plaintext import mrkdwn_to_plain
from notifications.nudges.readiness import reason_counts
from notifications.nudges.sending import nudge_send_enqueue
from notifications.nudges.snoozes import team_snooze
from runs.fleet.forms import repository_names_selected
from runs.fleet.models import Migration, Team
from runs.fleet.ownership import migration_act_or_403

HISTORY_PAGE_SIZE = 50
# PR lines a draft's preview shows before "show all".
PREVIEW_PR_LINES = 5


def _reasons_text(counts: dict[str, int]) -> str:
    return ", ".join(f"{count} {reason}" for reason, count in counts.items())


def _draft_messages(request, result: DraftResult) -> None:
    added = sum(len(prs) for prs in result.extended.values())
    new = [n for n in result.drafts if n.pk not in result.extended]
    if new:
        messages.success(request, f"{len(new)} new draft(s) ready to review.")
    kept = {n.pk for n in result.kept_text}
    for nudge in result.drafts:
        if nudge.pk not in result.extended:
            continue
        name = nudge.team.name or nudge.team.slug
        listed = sum(1 for line in nudge.lines if line["kind"] == "pr")
        gained = len(result.extended[nudge.pk])
        failing = result.failing_added.get(nudge.pk, 0)
        if gained or failing:
            note = " Your edited text was kept, with its count of pull requests updated." if nudge.pk in kept else ""
            parts = [f"{gained} pull request(s)"] if gained else []
            parts += [f"{failing} failing repositories without a pull request"] if failing else []
            messages.success(
                request,
                f"{name}: {' and '.join(parts)} added to the open draft, which now lists {listed} pull request(s).{note}",
            )
        else:
            messages.info(
                request,
                f"{name}: nothing to add; the open draft already covers these repositories "
                f"and lists {listed} pull request(s).",
            )
    if not result.drafts and not added and not result.without_draft:
        messages.info(request, "No draft: none of the chosen repositories has an open pull request or a failure.")
    if result.left_out_prs:
        messages.warning(
            request,
            f"{result.left_out_prs} pull request(s) not ready to merge were left out ({_reasons_text(result.left_out)}). "
            'Tick "Include pull requests not ready to merge" to list them, marked as not ready.',
        )
    for skipped in result.without_draft:
        why = []
        if skipped.left_out_prs:
            why.append(f"{skipped.left_out_prs} pull request(s) not ready to merge ({_reasons_text(skipped.left_out)})")
        if skipped.failing:
            why.append(
                f"{skipped.failing} repositor{'y' if skipped.failing == 1 else 'ies'} failed without a pull request"
            )
        messages.warning(
            request,
            f"{skipped.team.name or skipped.team.slug}: no draft, as there is no pull request ready to ask about"
            + (f": {'; '.join(why)}." if why else "."),
        )
    if result.unowned:
        messages.warning(request, f"{len(result.unowned)} repositories have no owning team and got no draft.")
    for team, until in result.snoozed:
        messages.info(request, f"{team.name or team.slug} is snoozed until {until:%Y-%m-%d}: no draft.")
    for team in result.no_channel:
        messages.warning(request, f"{team.name or team.slug} has no Slack channel yet: choose one before sending.")


def _preview(blocks: list[dict]) -> dict:
    """A draft's blocks as the page shows them: header, intro, the PR lines (capped), context lines."""
    parts = {"header": "", "intro": "", "pr_lines": [], "context": []}
    for index, block in enumerate(blocks):
        if block["type"] == "header":
            parts["header"] = block["text"]["text"]
        elif block["type"] == "section" and index == 1:
            parts["intro"] = block["text"]["text"]
        elif block["type"] == "section":
            parts["pr_lines"].extend(block["text"]["text"].split("\n"))
        elif block["type"] == "context":
            parts["context"].extend(el.get("text", "") for el in block.get("elements", []))
    parts["first_lines"] = parts["pr_lines"][:PREVIEW_PR_LINES]
    parts["more_lines"] = parts["pr_lines"][PREVIEW_PR_LINES:]
    return parts


def _draft_card(nudge: Nudge) -> Nudge:
    """Adds what the page shows of a draft: its plain text, preview and counts of listed and left-out PRs."""
    prs = [line for line in nudge.lines if line["kind"] == "pr"]
    left_out = [line for line in nudge.lines if line["kind"] == "left_out"]
    nudge.editor_text = mrkdwn_to_plain(nudge.text)
    nudge.preview = _preview(nudge_blocks(nudge)[1] if nudge.status == Nudge.Status.DRAFT else nudge.blocks)
    nudge.listed = len(prs)
    nudge.listed_not_ready = sum(1 for line in prs if not line.get("ready", True))
    nudge.failing_repos = sum(1 for line in nudge.lines if line["kind"] == "failing")
    nudge.left_out_count = len(left_out)
    nudge.left_out_reasons = _reasons_text(reason_counts(left_out))
    nudge.left_out_repos = sorted({line["repo"] for line in left_out})
    return nudge


@require_POST
@role_required(MIGRATION_OWNER)
def team_snooze_set(request, slug: str):
    team = get_object_or_404(Team, slug=slug)
    form = SnoozeForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Snooze for 1 to 90 days.")
    else:
        migration = None
        if form.cleaned_data["migration"]:
            migration = get_object_or_404(Migration, slug=form.cleaned_data["migration"])
            if (denied := migration_act_or_403(request, migration)) is not None:
                return denied
        until = timezone.now() + timedelta(days=form.cleaned_data["days"])
        team_snooze(team=team, until=until, user=request.user, migration=migration, reason=form.cleaned_data["reason"])
        messages.success(request, f"{team.name or team.slug} gets no nudges until {until:%Y-%m-%d}.")
    return redirect(next_url_or(request, reverse("notifications:unowned")))


@require_POST
def nudge_create(request, slug: str):
    migration = get_object_or_404(Migration, slug=slug)
    if (denied := migration_act_or_403(request, migration)) is not None:
        return denied
    form = NudgeCreateForm(request.POST)
    if not form.is_valid():
        return HttpResponseBadRequest("invalid nudge request: " + "; ".join(form.errors))
    names = repository_names_selected(migration=migration, data=request.POST) or None
    if form.cleaned_data["cluster"]:
        names = cluster_repo_names(migration=migration, cluster_id=form.cleaned_data["cluster"])
        if names is None:
            raise Http404(f"{migration.slug} has no cluster {form.cleaned_data['cluster']}")
    result = nudge_drafts_create(
        migration=migration,
        user=request.user,
        repo_names=names,
        due=form.cleaned_data["due"],
        include_unready=form.cleaned_data["include_unready"],
    )
    _draft_messages(request, result)
    return redirect("notifications:nudge-drafts", slug=migration.slug)


@require_GET
def nudge_drafts(request, slug: str):
    migration = get_object_or_404(Migration, slug=slug)
    if (denied := migration_act_or_403(request, migration)) is not None:
        return denied
    drafts = list(selectors.nudge_drafts(migration=migration))
    # Drafts show what they would send now: current PR states and readiness (one query for all).
    open_drafts = [n for n in drafts if n.status == Nudge.Status.DRAFT]
    for nudge, lines in zip(open_drafts, draft_lines_current([n.lines for n in open_drafts]), strict=True):
        nudge_lines_apply(nudge, lines)
    cards = [_draft_card(nudge) for nudge in drafts]
    sendable = [n for n in cards if n.status in (Nudge.Status.DRAFT, Nudge.Status.FAILED)]
    return render(
        request,
        "notifications/drafts.html",
        {
            "migration": migration,
            "drafts": cards,
            "sendable": sendable,
            "has_drafts": bool(open_drafts),
            "listed_total": sum(n.listed for n in cards),
            "left_out_total": sum(n.left_out_count for n in cards),
            "left_out_reasons": _reasons_text(
                reason_counts(line for n in cards for line in n.lines if line["kind"] == "left_out")
            ),
            "open_id": int(request.GET["open"]) if request.GET.get("open", "").isdigit() else None,
        },
    )


@require_POST
def nudge_send_selected(request, slug: str):
    migration = get_object_or_404(Migration, slug=slug)
    if (denied := migration_act_or_403(request, migration)) is not None:
        return denied
    candidates = {
        n.pk: n for n in selectors.nudge_list(migration=migration, statuses=[Nudge.Status.DRAFT, Nudge.Status.FAILED])
    }
    form = SendForm(request.POST, draft_ids=list(candidates))
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect("notifications:nudge-drafts", slug=migration.slug)
    chosen = [candidates[pk] for pk in form.cleaned_data["nudges"]]
    queued, refused = nudge_send_enqueue(nudges=chosen, user=request.user)
    messages.success(request, f"{len(queued)} nudge(s) queued for sending.")
    if refused:
        messages.warning(request, f"{len(refused)} nudge(s) were already being sent and were skipped.")
    return redirect("notifications:nudge-drafts", slug=migration.slug)


@require_POST
def nudge_edit(request, pk: int):
    nudge = get_object_or_404(Nudge.objects.select_related("migration", "team"), pk=pk)
    if (denied := migration_act_or_403(request, nudge.migration)) is not None:
        return denied
    form = DraftEditForm(request.POST)
    if not form.is_valid():
        messages.error(request, "The text is required and at most 3000 characters.")
    else:
        try:
            nudge_draft_update(nudge=nudge, text=form.cleaned_data["text"], user=request.user)
            messages.success(request, f"Draft for {nudge.team.name or nudge.team.slug} saved.")
        except NudgeNotSendable:
            messages.error(request, "This nudge is no longer a draft.")
        except DraftTextInvalid as exc:
            messages.error(request, str(exc))
    url = reverse("notifications:nudge-drafts", args=[nudge.migration.slug])
    return redirect(f"{url}?open={nudge.pk}#nudge-{nudge.pk}")


@require_POST
def nudge_cancel_view(request, pk: int):
    nudge = get_object_or_404(Nudge.objects.select_related("migration", "team"), pk=pk)
    if (denied := migration_act_or_403(request, nudge.migration)) is not None:
        return denied
    if nudge_cancel(nudge=nudge, user=request.user):
        messages.success(request, f"Draft for {nudge.team.name or nudge.team.slug} cancelled.")
    return redirect("notifications:nudge-drafts", slug=nudge.migration.slug)


@require_POST
def nudge_ready_only(request, pk: int):
    nudge = get_object_or_404(Nudge.objects.select_related("migration", "team"), pk=pk)
    if (denied := migration_act_or_403(request, nudge.migration)) is not None:
        return denied
    try:
        moved = nudge_draft_leave_out_unready(nudge=nudge, user=request.user)
        messages.success(
            request, f"Draft for {nudge.team.name or nudge.team.slug}: {moved} pull request(s) not ready left out."
        )
    except NudgeNotSendable:
        messages.error(request, "This nudge is no longer a draft.")
    except DraftTextInvalid as exc:
        messages.error(request, str(exc))
    url = reverse("notifications:nudge-drafts", args=[nudge.migration.slug])
    return redirect(f"{url}?open={nudge.pk}#nudge-{nudge.pk}")


@require_GET
def nudge_history(request):
    migration = Migration.objects.filter(slug=request.GET.get("migration") or "").first()
    team = Team.objects.filter(slug=request.GET.get("team") or "").first()
    page = Paginator(selectors.nudge_history(migration=migration, team=team), HISTORY_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "notifications/history.html",
        {
            "page": page,
            "migration": migration,
            "team": team,
            "migrations": Migration.objects.order_by("slug"),
            "teams": Team.objects.order_by("slug"),
        },
    )
