"""The API tokens page (a user lists, creates and revokes their own tokens) and the login lockout page."""

import math

from django.conf import settings
from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache

from runs.accounts.forms import ApiTokenCreateForm
from runs.accounts.selectors import api_token_get, api_token_list
from runs.accounts.services import api_token_create, api_token_revoke


@never_cache
def api_tokens(request):
    """The user's tokens and the form for a new one; a new key is shown once, in this response only."""
    new_key = None
    if request.method == "POST":
        form = ApiTokenCreateForm(request.POST)
        if form.is_valid():
            new_key = api_token_create(
                user=request.user,
                name=form.cleaned_data["name"],
                scope=form.cleaned_data["scope"],
                expires_in_days=form.cleaned_data["expires_in_days"],
                audit=True,
                actor=request.user,
                via="tokens page",
            )
            form = ApiTokenCreateForm()
    else:
        form = ApiTokenCreateForm()
    context = {"form": form, "tokens": api_token_list(user=request.user), "new_key": new_key, "nav": "tokens"}
    return render(request, "accounts/api_tokens.html", context, status=400 if form.errors else 200)


@never_cache
def api_token_revoke_confirm(request, token_id: int):
    """GET asks for confirmation; POST revokes the token."""
    token = api_token_get(user=request.user, token_id=token_id)
    if token is None:
        raise Http404("no such token")
    if request.method == "POST":
        if api_token_revoke(token=token, actor=request.user):
            messages.success(request, f"Token “{token.name or token.prefix}” revoked; it no longer opens the API.")
        else:
            messages.info(request, f"Token “{token.name or token.prefix}” was already revoked.")
        return redirect("api-tokens")
    return render(request, "accounts/api_token_revoke.html", {"token": token, "nav": "tokens"})


def login_locked_out(request, original_response=None, credentials=None):
    """django-axes' answer to a refused login: 429 and when to try again (every try restarts the cool-off)."""
    minutes = max(1, math.ceil(settings.AXES_COOLOFF_TIME.total_seconds() / 60))
    response = render(
        request,
        "accounts/locked_out.html",
        {"minutes": minutes, "failure_limit": settings.AXES_FAILURE_LIMIT},
        status=429,
    )
    response["Retry-After"] = str(minutes * 60)
    return response
