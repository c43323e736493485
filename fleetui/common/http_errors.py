"""Error answers (400, 403, 404, 413, 500, CSRF): JSON under /api/, Django's pages elsewhere; refuses hostile requests early."""

from django.conf import settings
from django.core.exceptions import BadRequest, RequestDataTooBig, TooManyFieldsSent
from django.http import HttpResponse, JsonResponse
from django.views import csrf, defaults

from fleetui.common.roles import is_api_request
from fleetui.common.untrusted import unstorable

_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
_TOO_LARGE_PAGE = (
    "<!doctype html>\n<html lang=en>\n<title>Request too large (413)</title>\n"
    "<h1>Request too large (413)</h1><p>The request body is larger than this server accepts.</p>\n"
)


def _too_large_message() -> str:
    return f"the request body is larger than {settings.DATA_UPLOAD_MAX_MEMORY_SIZE:,} bytes"


def bad_request(request, exception=None):
    """handler400: a refused request; an oversize body answers 413."""
    if isinstance(exception, RequestDataTooBig):
        if is_api_request(request):
            return JsonResponse({"error": _too_large_message()}, status=413)
        return HttpResponse(_TOO_LARGE_PAGE, status=413)
    if is_api_request(request):
        # Our own refusals say why; other suspicious requests get no detail.
        known = isinstance(exception, BadRequest | TooManyFieldsSent) and str(exception)
        return JsonResponse({"error": str(exception) if known else "bad request"}, status=400)
    return defaults.bad_request(request, exception)


def permission_denied(request, exception=None):
    """handler403."""
    if is_api_request(request):
        return JsonResponse({"error": "permission denied"}, status=403)
    return defaults.permission_denied(request, exception)


def page_not_found(request, exception=None):
    """handler404."""
    if is_api_request(request):
        return JsonResponse({"error": f"not found: {request.path[:200]}"}, status=404)
    return defaults.page_not_found(request, exception)


def server_error(request):
    """handler500: the details go to the log, never to the client."""
    if is_api_request(request):
        return JsonResponse({"error": "internal server error"}, status=500)
    return defaults.server_error(request)


def csrf_failure(request, reason=""):
    """CSRF_FAILURE_VIEW: a session-authenticated API call without a CSRF token (bearer tokens need none)."""
    if is_api_request(request):
        message = f"CSRF check failed: {reason}. Send the X-CSRFToken header, or use a bearer token"
        return JsonResponse({"error": message}, status=403)
    return csrf.csrf_failure(request, reason=reason)


class HostileRequestMiddleware:
    """Refuses, before any view runs, a declared body over the size limit (413) and NUL in the path, query or form (400)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        length = request.META.get("CONTENT_LENGTH") or ""
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if limit is not None and length.isdigit() and int(length) > limit:
            # Answered by handler400, which turns this one into a 413.
            raise RequestDataTooBig(_too_large_message())
        if unstorable(request.path):
            raise BadRequest("the path holds a NUL character")
        if _has_unstorable(request.GET):
            raise BadRequest("the query string holds a NUL character")
        if request.method == "POST" and request.content_type in _FORM_TYPES and _has_unstorable(request.POST):
            raise BadRequest("the form holds a NUL character")
        return self.get_response(request)


def _has_unstorable(data) -> bool:
    return any(unstorable(key) or any(unstorable(value) for value in values) for key, values in data.lists())
