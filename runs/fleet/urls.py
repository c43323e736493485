"""Pages: a migration's owners."""

from django.urls import path

from runs.fleet import views

urlpatterns = [
    path("migrations/<slug:slug>/owners", views.migration_owners_edit, name="migration-owners"),
]
