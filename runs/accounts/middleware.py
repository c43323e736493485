"""Authentication middleware: every page needs a session, every API call a session or a bearer token."""

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.http import JsonResponse
from django.utils import timezone

from runs.accounts.models import ApiToken
from runs.accounts.services import token_hash

# The rerun callback authenticates itself with an HMAC signature, like the webhooks.
PUBLIC_PATHS = ("/login/", "/static/", "/healthz", "/webhooks/", "/api/reruns/callback")


class ApiTokenMiddleware:
    """Authenticates `Authorization: Bearer <token>` requests as the token's user."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        header = request.headers.get("Authorization", "")
        request.api_token_error = None
        if header:
            scheme, _, key = header.partition(" ")
            if scheme.lower() != "bearer" or not key.strip():
                request.api_token_error = "Authorization header must be 'Bearer <token>'"
            else:
                token = ApiToken.objects.select_related("user").filter(key_hash=token_hash(key.strip())).first()
                if token is None or not token.user.is_active:
                    request.api_token_error = "invalid or revoked API token"
                else:
                    request.user = token.user
                    request._dont_enforce_csrf_checks = True
                    # One write a minute at most, not one per request.
                    now = timezone.now()
                    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
                        type(token).objects.filter(pk=token.pk).update(last_used_at=now)
        return self.get_response(request)


class LoginRequiredEverywhereMiddleware:
    """Pages redirect anonymous users to the login page; the API answers 401."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        path = request.path
        if path.startswith(PUBLIC_PATHS) or request.user.is_authenticated:
            return self.get_response(request)
        if path.startswith("/api/"):
            reason = getattr(request, "api_token_error", None) or "authentication required"
            response = JsonResponse({"error": reason}, status=401)
            response["WWW-Authenticate"] = 'Bearer realm="fleetui"'
            return response
        return redirect_to_login(request.get_full_path(), settings.LOGIN_URL)
