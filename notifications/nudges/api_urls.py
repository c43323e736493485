from django.urls import path

from notifications.nudges import (
    api,
    schema,  # noqa: F401  (registers the OpenAPI description)
)

urlpatterns = [
    path("migrations/<slug:slug>/nudges", api.migration_nudges, name="api-migration-nudges"),
    path("nudges/<int:nudge_id>/send", api.nudge_send, name="api-nudge-send"),
    path("nudges", api.nudges, name="api-nudges"),
]
