"""JSON API of the dashboards: migrations with their counts, a migration's repositories and attempts."""

from django.http import JsonResponse

from fleetui.common.api import ApiError, api_view, paginate
from runs.dashboards import selectors as dashboards_selectors
from runs.fleet import selectors as fleet_selectors
from runs.fleet.api import attempt_json, migration_or_404, pull_request_json
from runs.fleet.models import RepositoryState, Target


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


@api_view("GET")
def migration_repos(request, slug: str):
    migration = migration_or_404(slug)
    state = request.GET.get("state", "")
    if state and not fleet_selectors.state_is_valid(state):
        raise ApiError(400, f"unknown state {state[:40]!r}; one of {', '.join(RepositoryState.values)}")
    targets = fleet_selectors.target_list(migration=migration, state=state, team=request.GET.get("team", "").strip())

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
