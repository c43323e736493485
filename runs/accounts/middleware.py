"""Authentication middleware: every page needs a session, every API call a session or a bearer token."""

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.http import JsonResponse
from django.utils import timezone

from runs.accounts.models import ApiToken
from runs.accounts.services import token_hash

# The rerun callback authenticates itself with an HMAC signature, like the webhooks.
PUBLIC_PATHS = ("/login/", "/static/", "/healthz", "/webhooks/", "/api/reruns/callback")
API_PREFIX = "/api/"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def _unauthorized(reason: str) -> JsonResponse:
    response = JsonResponse({"error": reason}, status=401)
    response["WWW-Authenticate"] = 'Bearer realm="fleetui"'
    return response


class ApiTokenMiddleware:
    """Authenticates `Authorization: Bearer <token>` requests under /api/ as the token's user.

    Tokens open the JSON API only: elsewhere (pages, the Django admin) the header is ignored
    and a session is needed, so a leaked token cannot post a form that skips CSRF checks.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        header = request.headers.get("Authorization", "")
        if not header or not request.path.startswith(API_PREFIX) or request.path.startswith(PUBLIC_PATHS):
            return self.get_response(request)
        scheme, _, key = header.partition(" ")
        if scheme.lower() != "bearer" or not key.strip():
            return _unauthorized("Authorization header must be 'Bearer <token>'")
        token = ApiToken.objects.select_related("user").filter(key_hash=token_hash(key.strip())).first()
        if token is None or not token.user.is_active:
            return _unauthorized("invalid API token")
        if token.revoked_at is not None:
            return _unauthorized("this API token was revoked")
        now = timezone.now()
        if token.expires_at <= now:
            return _unauthorized(f"this API token expired at {token.expires_at.isoformat()}")
        if token.scope == ApiToken.Scope.READ_ONLY and request.method not in SAFE_METHODS:
            return JsonResponse(
                {"error": f"this API token is read-only: {request.method} needs a read-write token"}, status=403
            )
        request.user = token.user
        request.api_token = token
        # A bearer header is never sent by a browser on its own, so there is no forged request to guard against.
        request._dont_enforce_csrf_checks = True
        # One write a minute at most, not one per request.
        if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        return self.get_response(request)


class LoginRequiredEverywhereMiddleware:
    """Pages redirect anonymous users to the login page; the API answers 401."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        path = request.path
        if path.startswith(PUBLIC_PATHS) or request.user.is_authenticated:
            return self.get_response(request)
        if path.startswith(API_PREFIX):
            return _unauthorized("authentication required")
        return redirect_to_login(request.get_full_path(), settings.LOGIN_URL)
