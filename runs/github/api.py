"""JSON API for pull-request sync runs."""

from django.http import JsonResponse

from fleetui.common.api import ApiError, api_view, iso
from fleetui.common.roles import MIGRATION_OWNER, forbidden_response, user_has_role
from runs.github import selectors
from runs.github.models import PullRequestSyncRun
from runs.github.sync import pull_request_sync_enqueue


def sync_run_json(run: PullRequestSyncRun) -> dict:
    return {
        "id": run.pk,
        "status": run.status,
        "done": run.done,
        "trigger": run.trigger,
        "created_at": iso(run.created_at),
        "started_at": iso(run.started_at),
        "finished_at": iso(run.finished_at),
        **{name: getattr(run, name) for name in ("total", "checked", "changed", "not_modified", "errors")},
        "message": run.message,
    }


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
