"""The OpenAPI description of the migration, repository and attempt endpoints."""

from fleetui.common import openapi
from runs.fleet.models import Layer, Outcome, Phase, PullRequest, RepositoryState, Verdict
from runs.fleet.selectors import TARGET_ORDERS

REPO_ORDERS = [f"{sign}{key}" for key in TARGET_ORDERS for sign in ("", "-")]

SCHEMAS = {
    "MigrationSummary": openapi.closed(
        {
            "slug": openapi.STRING,
            "title": openapi.STRING,
            "repos": {"type": "integer"},
            "attempts": {"type": "integer"},
            "pre_existing": {
                "type": "integer",
                "description": "Repositories whose baseline failed before any change and that no attempt has fixed since.",
            },
            "by_state": openapi.closed({state: {"type": "integer"} for state in RepositoryState.values}, required=[]),
        }
    ),
    "PullRequest": openapi.closed(
        {
            "url": {"type": "string", "format": "uri"},
            "number": openapi.nullable({"type": "integer"}),
            "state": {"enum": PullRequest.State.values},
            "draft": openapi.nullable({"type": "boolean"}),
            "checks": openapi.nullable({"enum": ["success", "failure", "pending"]}),
            "review": openapi.nullable(openapi.STRING),
            "updated_at": openapi.DATETIME,
        }
    ),
    "Repo": openapi.closed(
        {
            "repo": {"type": "string", "description": "owner/name"},
            "team": openapi.nullable(openapi.STRING),
            "state": {"enum": RepositoryState.values},
            "pre_existing": {"type": "boolean"},
            "attempts": {"type": "integer"},
            "last_trace_id": openapi.nullable(openapi.STRING),
            "pr": openapi.nullable(openapi.ref("PullRequest")),
        }
    ),
    "VerifierCall": openapi.closed(
        {"verifier": openapi.STRING, "passed": {"type": "boolean"}, "snippet": openapi.STRING}
    ),
    "Judge": openapi.closed({"verdict": {"enum": Verdict.values}, "rationale": openapi.STRING}),
    "Attempt": {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "trace_id": openapi.STRING,
            "repo": openapi.STRING,
            "attempt": {"type": "integer"},
            "phase": {"enum": Phase.values},
            "outcome": {"enum": Outcome.values},
            "layer": {
                "enum": ["", *Layer.values],
                "description": "Where its failure comes from (pre-existing, infrastructure, agent), or whether its pass "
                "verified anything (unverifiable, verified); blank while it runs",
            },
            "prompt_rev": openapi.nullable({"type": "integer"}),
            "started_at": openapi.DATETIME,
            "ended_at": openapi.DATETIME,
            "verifiers": {"type": "array", "items": openapi.ref("VerifierCall")},
            "judge": openapi.nullable(openapi.ref("Judge")),
        },
    },
}

PATHS = {
    "/migrations": {
        "get": {
            "operationId": "migrations_list",
            "summary": "Migrations with repository counts by state",
            "parameters": openapi.PAGE_PARAMS,
            "responses": {
                "200": openapi.json_response("A page of migrations", openapi.page_of("MigrationSummary")),
                **openapi.ERRORS,
            },
        }
    },
    "/migrations/{slug}/repos": {
        "get": {
            "operationId": "migration_repos",
            "summary": "A migration's repositories with state, attempts and pull request",
            "parameters": [
                openapi.SLUG_PARAM,
                {"name": "state", "in": "query", "schema": {"type": "string", "enum": RepositoryState.values}},
                {
                    "name": "layer",
                    "in": "query",
                    "description": "Layer of its latest attempt",
                    "schema": {"type": "string", "enum": Layer.values},
                },
                {"name": "team", "in": "query", "description": "Team slug, or - for no team", "schema": openapi.STRING},
                {
                    "name": "repo",
                    "in": "query",
                    "description": "Text in the repository's owner/name (any case)",
                    "schema": openapi.STRING,
                },
                {
                    "name": "q",
                    "in": "query",
                    "description": "Text in its latest failure: a failed verifier's snippet, the judge's rationale or the "
                    "baseline's failure",
                    "schema": openapi.STRING,
                },
                {
                    "name": "cluster",
                    "in": "query",
                    "description": "Id of the cluster its latest attempt is in",
                    "schema": {"type": "integer", "minimum": 1, "maximum": 2**31 - 1},
                },
                {
                    "name": "pr_state",
                    "in": "query",
                    "description": "State of one of its pull requests, or none for no pull request",
                    "schema": {"type": "string", "enum": ["none", *PullRequest.State.values]},
                },
                {
                    "name": "order",
                    "in": "query",
                    "description": "Sort key, - first for descending; ties by repository name (default repo)",
                    "schema": {"type": "string", "enum": REPO_ORDERS},
                },
                *openapi.PAGE_PARAMS,
            ],
            "responses": {
                "200": openapi.json_response("A page of repositories", openapi.page_of("Repo")),
                **openapi.ERRORS,
                **openapi.NOT_FOUND,
            },
        }
    },
    "/migrations/{slug}/attempts": {
        "get": {
            "operationId": "migration_attempts",
            "summary": "A migration's attempts with verifier calls and judge verdict",
            "parameters": [
                openapi.SLUG_PARAM,
                {"name": "repo", "in": "query", "description": "Repository owner/name", "schema": openapi.STRING},
                *openapi.PAGE_PARAMS,
            ],
            "responses": {
                "200": openapi.json_response("A page of attempts", openapi.page_of("Attempt")),
                **openapi.ERRORS,
                **openapi.NOT_FOUND,
            },
        }
    },
}

openapi.register_paths(PATHS, SCHEMAS)
