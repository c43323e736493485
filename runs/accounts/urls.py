"""Pages: the user's own API tokens."""

from django.urls import path

from runs.accounts import views

urlpatterns = [
    path("account/tokens/", views.api_tokens, name="api-tokens"),
    path("account/tokens/<int:token_id>/revoke/", views.api_token_revoke_confirm, name="api-token-revoke"),
]
