"""JSON API for migrations, repositories, attempts and imports; auth comes from the middleware.

Other apps reuse `api_view`, `paginate` and `ApiError` so every endpoint answers the same way.
"""

import json
from collections.abc import Callable, Iterable
from functools import wraps

from django.conf import settings
from django.http import JsonResponse
from django.urls import reverse

from runs import selectors
from runs.models import Attempt, ImportRun, Migration, PullRequest, Target
from runs.openapi import openapi_document
from runs.permissions import MIGRATION_OWNER, forbidden_response, user_has_role
from runs.services.importing import import_run_enqueue


class ApiError(Exception):
    """An error answered as `{"error": message}` with the given HTTP status."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


def api_view(*methods: str):
    """Answer only the given methods; turn ApiError into a JSON error response."""

    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if request.method not in methods:
                response = JsonResponse({"error": f"method {request.method} not allowed"}, status=405)
                response["Allow"] = ", ".join(methods)
                return response
            try:
                return view(request, *args, **kwargs)
            except ApiError as exc:
                return JsonResponse({"error": exc.message}, status=exc.status)

        return wrapper

    return decorator


def _non_negative_int(request, name: str, default: int) -> int:
    raw = request.GET.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ApiError(400, f"{name} must be a whole number, got {raw[:40]!r}") from None
    if value < 0:
        raise ApiError(400, f"{name} must not be negative")
    return value


def page_params(request) -> tuple[int, int]:
    """`limit` and `offset` from the query string, validated against the configured bounds."""
    limit = _non_negative_int(request, "limit", settings.API_PAGE_SIZE)
    offset = _non_negative_int(request, "offset", 0)
    if limit < 1 or limit > settings.API_MAX_PAGE_SIZE:
        raise ApiError(400, f"limit must be between 1 and {settings.API_MAX_PAGE_SIZE}")
    return limit, offset


def paginate(request, items, serialize: Callable[[list], Iterable[dict]]) -> dict:
    """One page of a queryset or list as `{count, limit, offset, results}`."""
    limit, offset = page_params(request)
    count = items.count() if hasattr(items, "count") and not isinstance(items, list) else len(items)
    rows = list(items[offset : offset + limit])
    return {"count": count, "limit": limit, "offset": offset, "results": list(serialize(rows))}


def json_body(request) -> dict:
    """The request's JSON object (empty when there is no body), or a 400."""
    try:
        data = json.loads(request.body or b"{}")
    except (ValueError, UnicodeDecodeError):
        raise ApiError(400, "the body must be a JSON object") from None
    if not isinstance(data, dict):
        raise ApiError(400, "the body must be a JSON object")
    return data


def _iso(value) -> str | None:
    return value.isoformat() if value else None


def _migration_or_404(slug: str) -> Migration:
    migration = Migration.objects.filter(slug=slug).first()
    if migration is None:
        raise ApiError(404, f"no migration with slug {slug[:200]!r}")
    return migration


def _summary_json(summary: selectors.MigrationSummary) -> dict:
    return {
        "slug": summary.migration.slug,
        "title": summary.migration.title,
        "repos": summary.repos,
        "attempts": summary.attempts,
        "pre_existing": summary.pre_existing,
        "by_state": {value: count for value, _, count in summary.state_counts},
    }


def pull_request_json(pr: PullRequest | None) -> dict | None:
    if pr is None:
        return None
    return {
        "url": pr.url,
        "number": pr.number,
        "state": pr.state,
        "draft": pr.draft,
        "checks": pr.checks or None,
        "review": pr.review or None,
        "updated_at": _iso(pr.updated_at),
    }


def attempt_json(attempt: Attempt) -> dict:
    judge = selectors.attempt_judge(attempt)
    return {
        "trace_id": attempt.trace_id,
        "repo": attempt.repository.full_name,
        "attempt": attempt.number,
        "phase": attempt.phase,
        "outcome": attempt.outcome,
        "prompt_rev": attempt.prompt_revision.number if attempt.prompt_revision else None,
        "started_at": _iso(attempt.started_at),
        "ended_at": _iso(attempt.ended_at),
        "verifiers": [
            {"verifier": r.kind, "passed": r.passed, "snippet": r.snippet} for r in attempt.verifier_results.all()
        ],
        "judge": {"verdict": judge.verdict, "rationale": judge.rationale} if judge else None,
    }


def import_run_json(run: ImportRun) -> dict:
    return {
        "id": run.pk,
        "status": run.status,
        "done": run.done,
        "trigger": run.trigger,
        "requested_by": run.requested_by.get_username() if run.requested_by else None,
        "created_at": _iso(run.created_at),
        "started_at": _iso(run.started_at),
        "finished_at": _iso(run.finished_at),
        "seen": run.seen,
        "imported": run.imported,
        "updated": run.updated,
        "skipped": run.skipped,
        "errors": run.errors,
        "watermark_ms": run.watermark_ms,
        "message": run.message,
        "url": reverse("api-import-detail", args=[run.pk]),
    }


@api_view("GET")
def migrations_list(request):
    return JsonResponse(paginate(request, selectors.migration_summary_list(), lambda rows: map(_summary_json, rows)))


@api_view("GET")
def migration_repos(request, slug: str):
    migration = _migration_or_404(slug)
    state = request.GET.get("state", "")
    if state and not selectors.state_is_valid(state):
        raise ApiError(400, f"unknown state {state[:40]!r}; one of {', '.join(selectors.RepositoryState.values)}")
    targets = selectors.target_list(migration=migration, state=state, team=request.GET.get("team", "").strip())

    def serialize(rows: list[Target]):
        prs = selectors.pull_requests_by_repository(migration=migration, repository_ids=[t.repository_id for t in rows])
        for target in rows:
            team = target.repository.team
            yield {
                "repo": target.repository.full_name,
                "team": team.slug if team else None,
                "state": target.state,
                "pre_existing": target.pre_existing_failure,
                "attempts": target.attempts_count,
                "last_trace_id": target.latest_attempt.trace_id if target.latest_attempt else None,
                "pr": pull_request_json(prs.get(target.repository_id)),
            }

    return JsonResponse(paginate(request, targets, serialize))


@api_view("GET")
def migration_attempts(request, slug: str):
    migration = _migration_or_404(slug)
    attempts = selectors.attempt_list(migration=migration, repo=request.GET.get("repo", "").strip())
    return JsonResponse(paginate(request, attempts, lambda rows: map(attempt_json, rows)))


@api_view("GET", "POST")
def imports(request):
    if request.method == "POST":
        if not user_has_role(request.user, MIGRATION_OWNER):
            return forbidden_response(request, (MIGRATION_OWNER,))
        run = import_run_enqueue(trigger="api", user=request.user)
        return JsonResponse(import_run_json(run), status=202)
    return JsonResponse(paginate(request, selectors.import_run_list(), lambda rows: map(import_run_json, rows)))


@api_view("GET")
def import_detail(request, run_id: int):
    run = selectors.import_run_get(run_id=run_id)
    if run is None:
        raise ApiError(404, f"no import run {run_id}")
    errors = paginate(
        request,
        selectors.import_run_error_list(run=run),
        lambda rows: ({"trace_id": e.trace_id, "reason": e.reason, "created_at": _iso(e.created_at)} for e in rows),
    )
    return JsonResponse({**import_run_json(run), "error_rows": errors})


@api_view("GET")
def openapi(request):
    return JsonResponse(
        openapi_document(server_url=request.build_absolute_uri("/api")), json_dumps_params={"indent": 1}
    )


def not_found(request, path: str = ""):
    return JsonResponse({"error": f"no API endpoint at /api/{path[:200]}"}, status=404)
