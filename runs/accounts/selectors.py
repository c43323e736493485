"""Reads for the tokens page: a user's own tokens."""

from django.db.models import QuerySet

from runs.accounts.models import ApiToken


def api_token_list(*, user) -> QuerySet[ApiToken]:
    """The user's tokens, newest first, active and past alike."""
    return ApiToken.objects.filter(user=user).order_by("-created_at", "-pk")


def api_token_get(*, user, token_id: int) -> ApiToken | None:
    """One of the user's own tokens; None for anyone else's."""
    return ApiToken.objects.select_related("user").filter(user=user, pk=token_id).first()
