"""The product's routes plus the cluster page's draft route (its line for triage/clusters/urls.py)."""

from django.urls import path

from fleetui.urls import handler400, handler403, handler404, handler500  # noqa: F401  (JSON errors under /api/)
from fleetui.urls import urlpatterns as product_urlpatterns
from triage.clusters.fixes import views

urlpatterns = [
    path("clusters/<int:cluster_id>/fixes/draft/", views.cluster_fix_draft, name="cluster-fix-draft"),
    *product_urlpatterns,
]
