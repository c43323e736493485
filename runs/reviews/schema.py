"""The OpenAPI description of the endpoints for the review queue, reviewer decisions and review patterns; registered when the API routes load."""

from fleetui.common import openapi
from runs.fleet.models import Layer
from runs.reviews.filters import CARE_CHOICES, CI_CHOICES, REVIEW_CHOICES, SORTS
from runs.reviews.models import ReviewDecision
from runs.reviews.services import MAX_TAG_LENGTH, MAX_TAGS

SCHEMAS = {
    "ReviewItem": openapi.closed(
        {
            "id": {"type": "integer", "description": "Pull request id, for approve and request-changes."},
            "migration": openapi.STRING,
            "repo": openapi.STRING,
            "pr": openapi.ref("PullRequest"),
            "diff_url": openapi.STRING,
            "trace_id": openapi.STRING,
            "attempt": {"type": "integer"},
            "attempt_url": openapi.STRING,
            "ended_at": openapi.nullable({"type": "string", "format": "date-time"}),
            "verifiers": {"type": "array", "items": openapi.ref("VerifierCall")},
            "judge": openapi.nullable(openapi.ref("Judge")),
            "layer": {"enum": Layer.values, "description": "The attempt's layer; `unverifiable`: no test ran."},
            "needs_careful_review": {
                "type": "boolean",
                "description": "The verifier passed but verified nothing, so the change needs a close reading.",
            },
        }
    ),
    "ReviewDecision": openapi.closed(
        {
            "id": {"type": "integer"},
            "pull_request": {"type": "integer"},
            "trace_id": openapi.STRING,
            "decision": {"enum": ReviewDecision.Decision.values},
            "reviewer": openapi.nullable(openapi.STRING),
            "reason": openapi.STRING,
            "tags": {"type": "array", "items": openapi.STRING},
            "comment": {"type": "boolean"},
            "created_at": openapi.STRING,
            "github_status": {"enum": ReviewDecision.GitHubStatus.values},
            "github_error": openapi.nullable(openapi.STRING),
        }
    ),
    "ReviewPattern": openapi.closed(
        {
            "slug": openapi.STRING,
            "label": openapi.STRING,
            "count": {"type": "integer"},
            "examples": {
                "type": "array",
                "items": openapi.closed(
                    {
                        "trace_id": openapi.STRING,
                        "repo": openapi.STRING,
                        "reason": openapi.STRING,
                        "attempt_url": openapi.STRING,
                    }
                ),
            },
        }
    ),
}


def _decision_body(with_tags: bool) -> dict:
    properties = {"reason": {"type": "string", "maxLength": 5000}}
    if with_tags:
        properties |= {
            "tags": {
                "type": "array",
                "maxItems": MAX_TAGS,
                "items": {"type": "string", "minLength": 1, "maxLength": MAX_TAG_LENGTH},
                "description": "Pattern slugs or labels; new ones are created",
            },
            "comment": {"type": "boolean", "description": "Also post the reason as a comment on the PR"},
        }
    schema = openapi.closed(properties, required=[])
    if with_tags:
        # Changes need saying what to change: a reason with some text, or at least one tag.
        schema["anyOf"] = [
            {"required": ["reason"], "properties": {"reason": {"pattern": "\\S"}}},
            {"required": ["tags"], "properties": {"tags": {"minItems": 1}}},
        ]
    return {"content": {"application/json": {"schema": schema}}}


def _decision_op(operation_id: str, summary: str, with_tags: bool) -> dict:
    return {
        "post": {
            "operationId": operation_id,
            "summary": summary,
            "parameters": [openapi.ID_PARAM],
            "requestBody": _decision_body(with_tags),
            "responses": {
                "201": openapi.json_response("The decision, recorded", openapi.ref("ReviewDecision")),
                "200": openapi.json_response("The same decision, recorded before", openapi.ref("ReviewDecision")),
                "409": openapi.json_response("The attempt already has the other decision", openapi.ref("Error")),
                **openapi.ERRORS,
                **openapi.FORBIDDEN,
                **openapi.NOT_FOUND,
            },
        }
    }


PATHS = {
    "/reviews": {
        "get": {
            "operationId": "reviews_queue",
            "summary": "Agent pull requests awaiting a reviewer, oldest first",
            "parameters": [
                {"name": "migration", "in": "query", "schema": openapi.STRING},
                {"name": "team", "in": "query", "schema": openapi.STRING, "description": "A team's slug, `-`: none"},
                {"name": "ci", "in": "query", "schema": {"enum": [value for value, _ in CI_CHOICES]}},
                {"name": "review", "in": "query", "schema": {"enum": [value for value, _ in REVIEW_CHOICES]}},
                {"name": "care", "in": "query", "schema": {"enum": [value for value, _ in CARE_CHOICES]}},
                {"name": "q", "in": "query", "schema": openapi.STRING, "description": "Part of the repository's name"},
                {"name": "order", "in": "query", "schema": {"enum": [*SORTS, *(f"-{key}" for key in SORTS)]}},
                *openapi.PAGE_PARAMS,
            ],
            "responses": {
                "200": openapi.json_response("A page of the queue", openapi.page_of("ReviewItem")),
                **openapi.ERRORS,
                **openapi.NOT_FOUND,
            },
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
            "parameters": [openapi.SLUG_PARAM, *openapi.PAGE_PARAMS],
            "responses": {
                "200": openapi.json_response(
                    "A page of patterns plus `notes`",
                    openapi.page_of("ReviewPattern", notes={"type": "string", "description": "Notes to paste"}),
                ),
                **openapi.ERRORS,
                **openapi.NOT_FOUND,
            },
        }
    },
}

openapi.register_paths(PATHS, SCHEMAS)
