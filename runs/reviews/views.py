"""Pages of the reviewer gate: the queue, approve and request changes, patterns, judge calibration."""

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.template.response import TemplateResponse
from django.urls import reverse
from django.views.decorators.http import require_POST

from fleetui.common.redirects import next_url_or
from fleetui.common.roles import REVIEWER, role_required, user_has_role
from runs.fleet.models import Migration, PullRequest
from runs.fleet.selectors import attempt_judge
from runs.reviews import selectors
from runs.reviews.models import ReviewDecision, ReviewPattern
from runs.reviews.services import ReviewError, review_decision_record, review_decisions_bulk_approve

RECENT_DECISIONS = 20
MAX_BULK = 200


# -- review queue ------------------------------------------------------------------------------------------------


def _web_url(url: str) -> str:
    """The URL when it is an http(s) link; pull request URLs come from traces, so never link anything else."""
    return url if url.lower().startswith(("https://", "http://")) else ""


def _pending(decisions: list[ReviewDecision]) -> bool:
    waiting = (ReviewDecision.GitHubStatus.PENDING, ReviewDecision.GitHubStatus.RUNNING)
    return any(decision.github_status in waiting for decision in decisions)


def review_queue_page(request, slug: str | None = None):
    migration = get_object_or_404(Migration, slug=slug) if slug else None
    page = Paginator(selectors.review_queue(migration=migration), settings.PAGE_SIZE).get_page(request.GET.get("page"))
    rows = list(page.object_list)
    for pr in rows:
        pr.web_url = _web_url(pr.url)
        pr.diff_url = f"{pr.web_url.rstrip('/')}/files" if pr.web_url else ""
        pr.judge = attempt_judge(pr.attempt)
    decisions = list(selectors.review_decision_list(migration=migration)[:RECENT_DECISIONS])
    patterns = ReviewPattern.objects.filter(migration=migration) if migration else ReviewPattern.objects.none()
    context = {
        "nav": "reviews",
        "migration": migration,
        "page": page,
        "rows": rows,
        "decisions": decisions,
        "decisions_pending": _pending(decisions),
        "patterns": list(patterns),
        "can_review": user_has_role(request.user, REVIEWER),
        "here": request.get_full_path(),
    }
    return render(request, "reviews/queue.html", context)


def review_decisions_status(request):
    """Recent decisions with their GitHub status; the queue page polls it while some are pending."""
    migration = None
    if request.GET.get("migration"):
        migration = get_object_or_404(Migration, slug=request.GET["migration"])
    decisions = list(selectors.review_decision_list(migration=migration)[:RECENT_DECISIONS])
    return TemplateResponse(
        request,
        "reviews/queue.html#decisions",
        {"decisions": decisions, "migration": migration, "decisions_pending": _pending(decisions)},
    )


def _queue_url(pr: PullRequest) -> str:
    return reverse("migration-reviews", args=[pr.migration.slug])


def _tags(request) -> list[str]:
    tags = list(request.POST.getlist("tag"))
    tags += [tag for tag in request.POST.get("tags", "").split(",") if tag.strip()]
    return tags


@require_POST
@role_required(REVIEWER)
def review_approve(request, pr_id: int):
    pr = get_object_or_404(PullRequest.objects.select_related("migration"), pk=pr_id)
    try:
        _, created = review_decision_record(
            pull_request=pr,
            decision=ReviewDecision.Decision.APPROVE,
            reviewer=request.user,
            reason=request.POST.get("reason", ""),
        )
    except ReviewError as exc:
        messages.error(request, f"{pr.url}: {exc}")
    else:
        if created:
            messages.success(request, f"Approved {pr.url}; marking it ready for review on GitHub.")
        else:
            messages.info(request, f"{pr.url} was already approved.")
    return redirect(next_url_or(request, _queue_url(pr)))


@require_POST
@role_required(REVIEWER)
def review_request_changes(request, pr_id: int):
    pr = get_object_or_404(PullRequest.objects.select_related("migration"), pk=pr_id)
    try:
        _, created = review_decision_record(
            pull_request=pr,
            decision=ReviewDecision.Decision.REQUEST_CHANGES,
            reviewer=request.user,
            reason=request.POST.get("reason", ""),
            tags=_tags(request),
            comment=request.POST.get("comment") == "on",
        )
    except ReviewError as exc:
        messages.error(request, f"{pr.url}: {exc}")
    else:
        if created:
            messages.success(request, f"Requested changes on {pr.url}; the attempt can now be rerun.")
        else:
            messages.info(request, f"Changes were already requested on {pr.url}.")
    return redirect(next_url_or(request, _queue_url(pr)))


@require_POST
@role_required(REVIEWER)
def review_bulk_approve(request):
    """First POST shows a confirmation with the count; the confirmed POST approves."""
    ids = [int(value) for value in request.POST.getlist("pr") if value.isdigit()][:MAX_BULK]
    prs = selectors.pull_requests_for_review(ids=ids)
    back = next_url_or(request, reverse("reviews"))
    if not prs:
        messages.error(request, "Select at least one pull request still awaiting review.")
        return redirect(back)
    if request.POST.get("confirm") != "yes":
        context = {"nav": "reviews", "prs": prs, "next": back, "reason": request.POST.get("reason", "")}
        return render(request, "reviews/bulk_confirm.html", context)
    created, problems = review_decisions_bulk_approve(
        pull_requests=prs, reviewer=request.user, reason=request.POST.get("reason", "")
    )
    messages.success(request, f"Approved {len(created)} pull requests; marking them ready for review on GitHub.")
    for problem in problems[:10]:
        messages.error(request, problem)
    return redirect(back)


# -- patterns and calibration ------------------------------------------------------------------------------------


def review_patterns_page(request, slug: str):
    migration = get_object_or_404(Migration, slug=slug)
    summaries = selectors.review_pattern_summaries(migration=migration)
    context = {
        "nav": "reviews",
        "migration": migration,
        "summaries": summaries,
        "notes": selectors.review_pattern_notes(migration=migration, summaries=summaries),
    }
    return render(request, "reviews/patterns.html", context)


def judge_calibration_page(request):
    migration = None
    if request.GET.get("migration"):
        migration = get_object_or_404(Migration, slug=request.GET["migration"])
    page = Paginator(selectors.judge_disagreements(migration=migration), settings.PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    context = {
        "nav": "reviews",
        "migration": migration,
        "migrations": Migration.objects.order_by("slug").only("id", "slug", "title"),
        "calibration": selectors.judge_calibration(migration=migration),
        "page": page,
    }
    return render(request, "reviews/calibration.html", context)
