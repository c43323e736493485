"""JSON API for the review queue, reviewer decisions, review patterns and pull-request sync runs."""

from django.http import JsonResponse
from django.urls import reverse

from runs import selectors_reviews as selectors
from runs.api import ApiError, _iso, _migration_or_404, api_view, json_body, paginate, pull_request_json
from runs.models import PullRequest, PullRequestSyncRun, ReviewDecision
from runs.openapi import (
    ERRORS,
    NOT_FOUND,
    PAGE_PARAMS,
    SLUG_PARAM,
    STRING,
    json_response,
    nullable,
    page_of,
    ref,
    register_paths,
)
from runs.permissions import MIGRATION_OWNER, REVIEWER, forbidden_response, user_has_role
from runs.selectors import attempt_judge
from runs.services.pull_requests import pull_request_sync_enqueue
from runs.services.reviews import AlreadyDecided, ReviewError, review_decision_record


def _body(request) -> dict:
    """The JSON object sent, or the form fields when the body is a form."""
    if request.content_type != "application/json":
        form = request.POST
        return {
            "reason": form.get("reason", ""),
            "tags": form.getlist("tags"),
            "comment": form.get("comment", "").lower() in {"1", "true", "on", "yes"},
        }
    return json_body(request)


def review_item_json(pr: PullRequest) -> dict:
    attempt = pr.attempt
    judge = attempt_judge(attempt)
    return {
        "id": pr.pk,
        "migration": pr.migration.slug,
        "repo": pr.repository.full_name,
        "pr": pull_request_json(pr),
        "diff_url": f"{pr.url.rstrip('/')}/files",
        "trace_id": attempt.trace_id,
        "attempt": attempt.number,
        "attempt_url": reverse("attempt-detail", args=[attempt.trace_id]),
        "ended_at": _iso(attempt.ended_at),
        "verifiers": [
            {"verifier": r.kind, "passed": r.passed, "snippet": r.snippet} for r in attempt.verifier_results.all()
        ],
        "judge": {"verdict": judge.verdict, "rationale": judge.rationale} if judge else None,
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
        "created_at": _iso(decision.created_at),
        "github_status": decision.github_status,
        "github_error": decision.github_error or None,
    }


def sync_run_json(run: PullRequestSyncRun) -> dict:
    return {
        "id": run.pk,
        "status": run.status,
        "done": run.done,
        "trigger": run.trigger,
        "created_at": _iso(run.created_at),
        "started_at": _iso(run.started_at),
        "finished_at": _iso(run.finished_at),
        **{name: getattr(run, name) for name in ("total", "checked", "changed", "not_modified", "errors")},
        "message": run.message,
    }


@api_view("GET")
def review_queue(request):
    slug = request.GET.get("migration", "").strip()
    migration = _migration_or_404(slug) if slug else None
    return JsonResponse(
        paginate(request, selectors.review_queue(migration=migration), lambda r: map(review_item_json, r))
    )


def _decide(request, pr_id: int, decision: str):
    if not user_has_role(request.user, REVIEWER):
        return forbidden_response(request, (REVIEWER,))
    pr = PullRequest.objects.select_related("migration").filter(pk=pr_id).first()
    if pr is None:
        raise ApiError(404, f"no pull request {pr_id}")
    body = _body(request)
    reason, tags = body.get("reason", ""), body.get("tags", [])
    if not isinstance(reason, str) or not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        raise ApiError(400, "reason must be a string and tags a list of strings")
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
    migration = _migration_or_404(slug)
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


@api_view("POST")
def pull_requests_sync(request):
    if not user_has_role(request.user, MIGRATION_OWNER):
        return forbidden_response(request, (MIGRATION_OWNER,))
    run = pull_request_sync_enqueue(trigger="api", user=request.user)
    return JsonResponse(sync_run_json(run), status=202)


@api_view("GET")
def pull_requests_sync_detail(request, run_id: int):
    run = selectors.pull_request_sync_run_get(run_id=run_id)
    if run is None:
        raise ApiError(404, f"no pull request sync run {run_id}")
    return JsonResponse(sync_run_json(run))


# -- OpenAPI -----------------------------------------------------------------------------------------------------

PR_ID = {"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}
FORBIDDEN = {"403": {"$ref": "#/components/responses/Forbidden"}}
SCHEMAS = {
    "ReviewItem": {
        "type": "object",
        "properties": {
            "id": {"type": "integer", "description": "Pull request id, for approve and request-changes."},
            "migration": STRING,
            "repo": STRING,
            "pr": ref("PullRequest"),
            "diff_url": STRING,
            "trace_id": STRING,
            "attempt": {"type": "integer"},
            "attempt_url": STRING,
            "ended_at": nullable({"type": "string", "format": "date-time"}),
            "verifiers": {"type": "array", "items": ref("VerifierCall")},
            "judge": nullable(ref("Judge")),
        },
    },
    "ReviewDecision": {
        "type": "object",
        "properties": {
            "id": {"type": "integer"},
            "pull_request": {"type": "integer"},
            "trace_id": STRING,
            "decision": {"enum": ReviewDecision.Decision.values},
            "reviewer": nullable(STRING),
            "reason": STRING,
            "tags": {"type": "array", "items": STRING},
            "comment": {"type": "boolean"},
            "created_at": STRING,
            "github_status": {"enum": ReviewDecision.GitHubStatus.values},
            "github_error": nullable(STRING),
        },
    },
    "ReviewPattern": {
        "type": "object",
        "properties": {
            "slug": STRING,
            "label": STRING,
            "count": {"type": "integer"},
            "examples": {"type": "array", "items": {"type": "object"}},
        },
    },
    "PullRequestSyncRun": {
        "type": "object",
        "properties": {
            "id": {"type": "integer"},
            "status": {"enum": PullRequestSyncRun.Status.values},
            "done": {"type": "boolean"},
            "trigger": STRING,
            **{name: {"type": "integer"} for name in ("total", "checked", "changed", "not_modified", "errors")},
            "message": STRING,
        },
    },
}


def _decision_body(with_tags: bool) -> dict:
    properties = {"reason": STRING}
    if with_tags:
        properties |= {
            "tags": {"type": "array", "items": STRING, "description": "Pattern slugs or labels; new ones are created"},
            "comment": {"type": "boolean", "description": "Also post the reason as a comment on the PR"},
        }
    return {"content": {"application/json": {"schema": {"type": "object", "properties": properties}}}}


def _decision_op(operation_id: str, summary: str, with_tags: bool) -> dict:
    return {
        "post": {
            "operationId": operation_id,
            "summary": summary,
            "parameters": [PR_ID],
            "requestBody": _decision_body(with_tags),
            "responses": {
                "201": json_response("The decision, recorded", ref("ReviewDecision")),
                "200": json_response("The same decision, recorded before", ref("ReviewDecision")),
                "409": json_response("The attempt already has the other decision", ref("Error")),
                **ERRORS,
                **FORBIDDEN,
                **NOT_FOUND,
            },
        }
    }


PATHS = {
    "/reviews": {
        "get": {
            "operationId": "reviews_queue",
            "summary": "Agent pull requests awaiting a reviewer, oldest first",
            "parameters": [{"name": "migration", "in": "query", "schema": STRING}, *PAGE_PARAMS],
            "responses": {"200": json_response("A page of the queue", page_of("ReviewItem")), **ERRORS, **NOT_FOUND},
        }
    },
    "/pull-requests/{id}/approve": _decision_op(
        "pull_request_approve", "Approve: mark the draft ready for review on GitHub (reviewer)", False
    ),
    "/pull-requests/{id}/request-changes": _decision_op(
        "pull_request_request_changes", "Request changes with pattern tags; the attempt can be rerun (reviewer)", True
    ),
    "/migrations/{slug}/review-patterns": {
        "get": {
            "operationId": "migration_review_patterns",
            "summary": "Why reviewers sent changes back: tags with counts, examples and copyable notes",
            "parameters": [SLUG_PARAM, *PAGE_PARAMS],
            "responses": {
                "200": json_response("A page of patterns plus `notes`", page_of("ReviewPattern")),
                **ERRORS,
                **NOT_FOUND,
            },
        }
    },
    "/pull-requests/sync": {
        "post": {
            "operationId": "pull_requests_sync",
            "summary": "Refresh pull-request state from GitHub on workers (migration owner or admin)",
            "responses": {
                "202": json_response("The queued (or running) sync run", ref("PullRequestSyncRun")),
                **ERRORS,
                **FORBIDDEN,
            },
        }
    },
    "/pull-requests/sync/{id}": {
        "get": {
            "operationId": "pull_requests_sync_get",
            "summary": "One pull-request sync run",
            "parameters": [PR_ID],
            "responses": {"200": json_response("The sync run", ref("PullRequestSyncRun")), **ERRORS, **NOT_FOUND},
        }
    },
}

register_paths(PATHS, SCHEMAS)
