"""JSON API of the dashboards: migrations with their counts, a migration's repositories and attempts."""

from django.http import JsonResponse

from fleetui.common.api import ApiError, api_view, paginate
from runs.dashboards import selectors as dashboards_selectors
from runs.dashboards.schema import REPO_ORDERS
from runs.fleet import selectors as fleet_selectors
from runs.fleet.api import attempt_json, migration_or_404, pull_request_json
from runs.fleet.models import Layer, PullRequest, RepositoryState, Target


def _summary_json(summary: dashboards_selectors.MigrationSummary) -> dict:
    return {
        "slug": summary.migration.slug,
        "title": summary.migration.title,
        "repos": summary.repos,
        "attempts": summary.attempts,
        "pre_existing": summary.pre_existing,
        "by_state": {value: count for value, _, count in summary.state_counts},
    }


@api_view("GET")
def migrations_list(request):
    return JsonResponse(
        paginate(request, dashboards_selectors.migration_summary_list(), lambda rows: map(_summary_json, rows))
    )


MAX_ID = 2**31 - 1
PR_STATES = ["none", *PullRequest.State.values]


def _choice(request, name: str, allowed: list[str], default: str = "") -> str:
    value = request.GET.get(name, "")
    if value and value not in allowed:
        raise ApiError(400, f"unknown {name} {value[:40]!r}; one of {', '.join(allowed)}")
    return value or default


def _positive_id(request, name: str) -> int | None:
    raw = request.GET.get(name, "").strip()
    if not raw:
        return None
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 10) or not 1 <= int(raw) <= MAX_ID:
        raise ApiError(400, f"{name} must be an id from 1 to {MAX_ID}")
    return int(raw)


@api_view("GET")
def migration_repos(request, slug: str):
    migration = migration_or_404(slug)
    state = _choice(request, "state", RepositoryState.values)
    targets = fleet_selectors.target_list(
        migration=migration,
        state=state,
        layer=_choice(request, "layer", Layer.values),
        team=request.GET.get("team", "").strip(),
        cluster=_positive_id(request, "cluster"),
        pr_state=_choice(request, "pr_state", PR_STATES),
        repo=request.GET.get("repo", "")[:300],
        text=request.GET.get("q", "")[:200],
        order=_choice(request, "order", REPO_ORDERS, fleet_selectors.TARGET_DEFAULT_ORDER),
    )

    def serialize(rows: list[Target]):
        prs = fleet_selectors.pull_requests_by_repository(
            migration=migration, repository_ids=[t.repository_id for t in rows]
        )
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
    migration = migration_or_404(slug)
    attempts = fleet_selectors.attempt_list(migration=migration, repo=request.GET.get("repo", "").strip())
    return JsonResponse(paginate(request, attempts, lambda rows: map(attempt_json, rows)))
