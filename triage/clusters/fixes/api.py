"""JSON API: how a cluster's cause was fixed elsewhere (GET /api/clusters/{id}/fixes)."""

from django.http import JsonResponse

from fleetui.common.api import ApiError, api_view
from triage.clusters import selectors
from triage.clusters.fixes.exemplars import cluster_fixes


@api_view("GET")
def cluster_fixes_view(request, cluster_id: int):
    cluster = selectors.cluster_detail(cluster_id=cluster_id)
    if cluster is None:
        raise ApiError(404, f"no cluster {cluster_id}")
    found = cluster_fixes(cluster=cluster)
    if found.error:
        raise ApiError(503, found.error)
    return JsonResponse([fix.as_dict() for fix in found.fixes], safe=False)
