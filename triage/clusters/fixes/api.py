"""JSON API: how a cluster's cause was fixed elsewhere, and a drafted prompt addition from those fixes."""

from django.http import JsonResponse

from fleetui.common.api import ApiError, api_view
from fleetui.common.roles import MIGRATION_OWNER, forbidden_response
from triage.clusters import selectors
from triage.clusters.fixes.draft import MAX_REQUEST_EXAMPLES, DraftError, llm_settings, prompt_addition_draft
from triage.clusters.fixes.exemplars import cluster_fixes
from triage.clusters.services.actions import user_can_triage


@api_view("GET")
def cluster_fixes_view(request, cluster_id: int):
    cluster = selectors.cluster_detail(cluster_id=cluster_id)
    if cluster is None:
        raise ApiError(404, f"no cluster {cluster_id}")
    found = cluster_fixes(cluster=cluster)
    if found.error:
        raise ApiError(503, found.error)
    return JsonResponse([fix.as_dict() for fix in found.fixes], safe=False)


@api_view("POST")
def cluster_fix_draft_view(request, cluster_id: int):
    cluster = selectors.cluster_detail(cluster_id=cluster_id)
    if cluster is None:
        raise ApiError(404, f"no cluster {cluster_id}")
    if not user_can_triage(request.user):
        return forbidden_response(request, (MIGRATION_OWNER,))
    config = llm_settings()
    if not config.configured:
        raise ApiError(503, "no LLM endpoint is configured (FLEETUI_LLM_BASE_URL, FLEETUI_LLM_MODEL)")
    found = cluster_fixes(cluster=cluster)
    try:
        draft = prompt_addition_draft(cluster=cluster, fixes=found.fixes, config=config)
    except DraftError as exc:
        raise ApiError(502, str(exc)) from None
    return JsonResponse({"draft": draft, "model": config.model, "examples": len(found.fixes[:MAX_REQUEST_EXAMPLES])})
