"""Pages of the reviewer gate: the queue, approve and request changes, patterns, judge calibration.

Approve and request changes answer a plain form with a redirect back to the same place in the queue, and an
HTMX request with the decided row alone (plus the new total), so the reviewer stays where they are.
"""

import json
from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.timesince import timesince
from django.views.decorators.http import require_POST

from fleetui.common.listing import CountedPaginator
from fleetui.common.redirects import next_url_or
from fleetui.common.roles import REVIEWER, role_required, user_has_role
from runs.fleet.models import Migration, PullRequest, Team
from runs.fleet.selectors import attempt_judge
from runs.reviews import selectors
from runs.reviews.diffs import pull_request_diff
from runs.reviews.filters import CARE_CHOICES, CI_CHOICES, NO_TEAM, REVIEW_CHOICES, QueueFilters
from runs.reviews.models import ReviewDecision, ReviewPattern
from runs.reviews.services import ReviewError, review_decision_record

RECENT_DECISIONS = 20
# Sortable columns of the queue: (sort key, heading).
CI_LABELS = dict(CI_CHOICES[:3])
REVIEW_LABELS = {**dict(REVIEW_CHOICES[1:]), "commented": "commented"}
COLUMNS = (("repo", "Repository"), ("migration", "Migration"), ("team", "Team"), ("ci", "CI"), ("age", "Finished"))


# -- review queue ------------------------------------------------------------------------------------------------


def _web_url(url: str) -> str:
    """The URL when it is an http(s) link; pull request URLs come from traces, so never link anything else."""
    return url if url.lower().startswith(("https://", "http://")) else ""


def _pending(decisions: list[ReviewDecision]) -> bool:
    waiting = (ReviewDecision.GitHubStatus.PENDING, ReviewDecision.GitHubStatus.RUNNING)
    return any(decision.github_status in waiting for decision in decisions)


def _is_htmx(request) -> bool:
    return request.headers.get("HX-Request") == "true"


def _decorate(rows: list[PullRequest]) -> None:
    """Links, judge and review patterns each row shows (one query for the patterns of every migration shown)."""
    patterns: dict[int, list[ReviewPattern]] = {}
    for pattern in ReviewPattern.objects.filter(migration_id__in={pr.migration_id for pr in rows}):
        patterns.setdefault(pattern.migration_id, []).append(pattern)
    for index, pr in enumerate(rows):
        pr.web_url = _web_url(pr.url)
        pr.diff_url = f"{pr.web_url.rstrip('/')}/files" if pr.web_url else ""
        pr.judge = attempt_judge(pr.attempt)
        pr.patterns = patterns.get(pr.migration_id, [])
        pr.ci_label = CI_LABELS.get(pr.checks, "")
        pr.review_label = REVIEW_LABELS.get(pr.review, pr.review.replace("_", " "))
        pr.verifier_summary = _verifier_summary(pr.attempt.verifier_results.all())
        pr.age = timesince(pr.attempt.ended_at, depth=1) if pr.attempt.ended_at else ""
        # Where a plain form returns to once this row has left the queue: the row that takes its place.
        following = rows[index + 1] if index + 1 < len(rows) else (rows[index - 1] if index else None)
        pr.next_anchor = f"pr-{following.pk}" if following else "queue"


def _verifier_summary(results) -> list[dict]:
    """One entry per verifier kind, in first-run order: whether its last run passed, and every run's outcome."""
    kinds: dict[str, list[bool]] = {}
    for result in results:
        kinds.setdefault(result.kind, []).append(result.passed)
    return [
        {
            "kind": kind,
            "passed": runs[-1],
            "runs": len(runs),
            "title": f"{kind}: " + ", ".join("passed" if ok else "failed" for ok in runs),
        }
        for kind, runs in kinds.items()
    ]


def _columns(filters: QueueFilters, scoped: bool) -> list[dict]:
    """The sortable headings, each with the link that sorts by it (the filters kept) and its aria-sort."""
    columns = []
    for key, label in COLUMNS:
        if key == "migration" and scoped:
            continue
        order, aria_sort = filters.sort_for(key)
        query = filters.query(order=order)
        if scoped:
            query.pop("migration", None)
        columns.append({"key": key, "label": label, "href": "?" + urlencode(query), "aria_sort": aria_sort})
    return columns


def _queue_filters(request, slug: str | None) -> tuple[QueueFilters, Migration | None]:
    filters = QueueFilters.from_query(request.GET, migration=slug or "")
    migration = get_object_or_404(Migration, slug=filters.migration) if filters.migration else None
    return filters, migration


def review_queue_page(request, slug: str | None = None):
    filters, migration = _queue_filters(request, slug)
    queue = selectors.review_queue(migration=migration, filters=filters)
    count = selectors.review_queue_count(migration=migration, filters=filters)
    page = CountedPaginator(queue, settings.PAGE_SIZE, count=count).get_page(request.GET.get("page"))
    rows = list(page.object_list)
    _decorate(rows)
    decisions = list(selectors.review_decision_list(migration=migration)[:RECENT_DECISIONS])
    can_review = user_has_role(request.user, REVIEWER)
    columns = _columns(filters, scoped=slug is not None)
    context = {
        "nav": "reviews",
        "migration": migration,
        "scoped": slug is not None,
        "filters": filters,
        "filter_query": filters.query(order=""),
        "clear_url": request.path,
        "clearable": bool(filters.query(order="", migration="" if slug else filters.migration)),
        "columns": columns,
        "colspan": len(columns) + 3 + (2 if can_review else 0),
        "migrations": Migration.objects.order_by("slug").only("id", "slug", "title"),
        "teams": Team.objects.order_by("slug").only("id", "slug", "name"),
        "no_team": NO_TEAM,
        "ci_choices": CI_CHOICES,
        "review_choices": REVIEW_CHOICES,
        "care_choices": CARE_CHOICES,
        "page": page,
        "rows": rows,
        "total": page.paginator.count,
        "total_all": selectors.review_queue_total() if filters.narrowed else page.paginator.count,
        "decisions": decisions,
        "decisions_pending": _pending(decisions),
        "can_review": can_review,
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


def tags_from_form(request) -> list[str]:
    """Pattern tags a form sends: ticked ones (`tag`) and new ones, comma separated (`tags`)."""
    tags = list(request.POST.getlist("tag"))
    tags += [tag for tag in request.POST.get("tags", "").split(",") if tag.strip()]
    return tags


def _decided_row(request, pr: PullRequest, decision: ReviewDecision, created: bool) -> HttpResponse:
    """The row that replaces a decided pull request in place; the queue's new total rides in an HX-Trigger event."""
    back = next_url_or(request, _queue_url(pr))
    parts = urlsplit(back)
    filters = QueueFilters.from_query(QueryDict(parts.query))
    scope = parts.path.removeprefix("/migrations/").partition("/")[0] if parts.path.startswith("/migrations/") else ""
    migration = Migration.objects.filter(slug=scope or filters.migration).first()
    remaining = selectors.review_queue_count(migration=migration, filters=filters)
    try:
        cols = max(2, min(int(request.POST.get("cols", "8")), 20))
    except ValueError:
        cols = 8
    context = {"pr": pr, "decision": decision, "created": created, "cols": cols - 1}
    response = HttpResponse(render_to_string("reviews/_decided_row.html", context, request=request))
    event = {"pr": pr.pk, "remaining": remaining, "remaining_all": selectors.review_queue_total()}
    response["HX-Trigger"] = json.dumps({"reviewDecided": event})
    return response


def _refused(request, pr: PullRequest, message: str) -> HttpResponse:
    """An HTMX answer that leaves the row as it is and says, in its message slot, why nothing was recorded."""
    response = HttpResponse(render_to_string("reviews/_row_message.html", {"message": message}))
    response["HX-Retarget"] = f"#pr-{pr.pk}-message"
    response["HX-Reswap"] = "innerHTML"
    return response


def _decide(request, pr_id: int, decision: str, **fields):
    pr = get_object_or_404(PullRequest.objects.select_related("migration", "repository"), pk=pr_id)
    try:
        row, created = review_decision_record(
            pull_request=pr, decision=decision, reviewer=request.user, reason=request.POST.get("reason", ""), **fields
        )
    except ReviewError as exc:
        if _is_htmx(request):
            return _refused(request, pr, str(exc))
        messages.error(request, f"{pr.url}: {exc}")
        return redirect(next_url_or(request, _queue_url(pr)))
    if _is_htmx(request):
        return _decided_row(request, pr, row, created)
    said = {
        (ReviewDecision.Decision.APPROVE, True): f"Approved {pr.url}; marking it ready for review on GitHub.",
        (ReviewDecision.Decision.APPROVE, False): f"{pr.url} was already approved.",
        (
            ReviewDecision.Decision.REQUEST_CHANGES,
            True,
        ): f"Requested changes on {pr.url}; the attempt can now be rerun.",
        (ReviewDecision.Decision.REQUEST_CHANGES, False): f"Changes were already requested on {pr.url}.",
    }[(decision, created)]
    (messages.success if created else messages.info)(request, said)
    anchor = request.POST.get("anchor", "")
    back = next_url_or(request, _queue_url(pr))
    return redirect(back + (f"#{anchor}" if anchor.replace("-", "").isalnum() else ""))


@require_POST
@role_required(REVIEWER)
def review_approve(request, pr_id: int):
    return _decide(request, pr_id, ReviewDecision.Decision.APPROVE)


@require_POST
@role_required(REVIEWER)
def review_request_changes(request, pr_id: int):
    return _decide(
        request,
        pr_id,
        ReviewDecision.Decision.REQUEST_CHANGES,
        tags=tags_from_form(request),
        comment=request.POST.get("comment") == "on",
    )


def review_diff(request, pr_id: int):
    """The pull request's changed files from GitHub: the row's inline diff (HTMX), or a page of its own."""
    pr = get_object_or_404(PullRequest.objects.select_related("migration", "repository", "attempt__judge"), pk=pr_id)
    pr.web_url = _web_url(pr.url)
    pr.diff_url = f"{pr.web_url.rstrip('/')}/files" if pr.web_url else ""
    context = {"pr": pr, "diff": pull_request_diff(pr)}
    if _is_htmx(request):
        return render(request, "reviews/_diff.html", context)
    in_queue = selectors.review_queue().filter(pk=pr.pk).exists()
    context.update(
        {
            "nav": "reviews",
            "migration": pr.migration,
            "judge": attempt_judge(pr.attempt) if pr.attempt_id else None,
            "can_review": user_has_role(request.user, REVIEWER) and in_queue,
            "in_queue": in_queue,
            "patterns": list(ReviewPattern.objects.filter(migration=pr.migration)),
            "here": _queue_url(pr),
        }
    )
    return render(request, "reviews/diff.html", context)


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
