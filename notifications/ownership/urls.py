"""Pages: overriding a repository's owning team."""

from django.urls import path

from notifications.ownership import views

urlpatterns = [
    path("ownership/override/", views.override_set, name="override-set"),
]
