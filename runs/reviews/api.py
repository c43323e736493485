"""JSON API for the review queue, reviewer decisions and review patterns."""

from django.http import JsonResponse
from django.urls import reverse

from fleetui.common.api import ApiError, api_view, iso, json_body, paginate, string_list
from fleetui.common.roles import REVIEWER, forbidden_response, user_has_role
from runs.fleet.api import attempt_results_json, migration_or_404, pull_request_json
from runs.fleet.layers import UNVERIFIABLE
from runs.fleet.models import PullRequest
from runs.reviews import selectors
from runs.reviews.filters import QueueFilters
from runs.reviews.models import ReviewDecision
from runs.reviews.services import MAX_TAG_LENGTH, MAX_TAGS, AlreadyDecided, ReviewError, review_decision_record

DECISION_FIELDS = ("reason", "tags", "comment")


def _body(request, allowed: tuple[str, ...]) -> dict:
    """The JSON object sent, or the form fields when the body is a form."""
    if request.content_type != "application/json":
        form = request.POST
        return {
            "reason": form.get("reason", ""),
            "tags": form.getlist("tags"),
            "comment": form.get("comment", "").lower() in {"1", "true", "on", "yes"},
        }
    return json_body(request, allowed=allowed)


def review_item_json(pr: PullRequest) -> dict:
    attempt = pr.attempt
    return {
        "id": pr.pk,
        "migration": pr.migration.slug,
        "repo": pr.repository.full_name,
        "pr": pull_request_json(pr),
        "diff_url": f"{pr.url.rstrip('/')}/files",
        **attempt_results_json(attempt),
        "layer": attempt.layer,
        "needs_careful_review": attempt.layer == UNVERIFIABLE,
        "attempt_url": reverse("attempt-detail", args=[attempt.trace_id]),
    }


def decision_json(decision: ReviewDecision) -> dict:
    return {
        "id": decision.pk,
        "pull_request": decision.pull_request_id,
        "trace_id": decision.attempt.trace_id,
        "decision": decision.decision,
        "reviewer": decision.reviewer_name or None,
        "reason": decision.reason,
        "tags": [pattern.slug for pattern in decision.patterns.all()],
        "comment": decision.comment,
        "created_at": iso(decision.created_at),
        "github_status": decision.github_status,
        "github_error": decision.github_error or None,
    }


@api_view("GET")
def review_queue(request):
    slug = request.GET.get("migration", "").strip()
    migration = migration_or_404(slug) if slug else None
    filters = QueueFilters.from_query(request.GET, migration=slug)
    return JsonResponse(
        paginate(
            request,
            selectors.review_queue(migration=migration, filters=filters),
            lambda r: map(review_item_json, r),
            count=selectors.review_queue_count(migration=migration, filters=filters),
        )
    )


def _decide(request, pr_id: int, decision: str):
    if not user_has_role(request.user, REVIEWER):
        return forbidden_response(request, (REVIEWER,))
    pr = PullRequest.objects.select_related("migration").filter(pk=pr_id).first()
    if pr is None:
        raise ApiError(404, f"no pull request {pr_id}")
    body = _body(request, DECISION_FIELDS if decision == ReviewDecision.Decision.REQUEST_CHANGES else ("reason",))
    reason, tags = body.get("reason", ""), string_list(body, "tags", max_items=MAX_TAGS, max_length=MAX_TAG_LENGTH)
    if not isinstance(reason, str) or not isinstance(body.get("comment", False), bool):
        raise ApiError(400, "reason must be a string and comment true or false")
    try:
        row, created = review_decision_record(
            pull_request=pr,
            decision=decision,
            reviewer=request.user,
            reason=reason,
            tags=tags,
            comment=body.get("comment") is True,
        )
    except AlreadyDecided as exc:
        raise ApiError(409, str(exc)) from None
    except ReviewError as exc:
        raise ApiError(400, str(exc)) from None
    row = ReviewDecision.objects.select_related("attempt").prefetch_related("patterns").get(pk=row.pk)
    return JsonResponse(decision_json(row), status=201 if created else 200)


@api_view("POST")
def pull_request_approve(request, pr_id: int):
    return _decide(request, pr_id, ReviewDecision.Decision.APPROVE)


@api_view("POST")
def pull_request_request_changes(request, pr_id: int):
    return _decide(request, pr_id, ReviewDecision.Decision.REQUEST_CHANGES)


@api_view("GET")
def review_patterns(request, slug: str):
    migration = migration_or_404(slug)
    summaries = selectors.review_pattern_summaries(migration=migration)

    def serialize(rows):
        for summary in rows:
            yield {
                "slug": summary.pattern.slug,
                "label": summary.pattern.label,
                "count": summary.count,
                "examples": [
                    {
                        "trace_id": d.attempt.trace_id,
                        "repo": d.attempt.repository.full_name,
                        "reason": d.reason,
                        "attempt_url": reverse("attempt-detail", args=[d.attempt.trace_id]),
                    }
                    for d in summary.examples
                ],
            }

    answer = paginate(request, summaries, serialize)
    answer["notes"] = selectors.review_pattern_notes(migration=migration, summaries=summaries)
    return JsonResponse(answer)


# -- OpenAPI -----------------------------------------------------------------------------------------------------
