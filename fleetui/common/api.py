"""The JSON API kit: errors, method checks, pagination, request bodies, timestamps and the OpenAPI endpoint."""

import json
from collections.abc import Callable, Iterable
from functools import wraps

from django.conf import settings
from django.http import JsonResponse

from fleetui.common.openapi import openapi_document


class ApiError(Exception):
    """An error answered as `{"error": message}` with the given HTTP status."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


def api_view(*methods: str):
    """Answer only the given methods; turn ApiError into a JSON error response."""

    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if request.method not in methods:
                response = JsonResponse({"error": f"method {request.method} not allowed"}, status=405)
                response["Allow"] = ", ".join(methods)
                return response
            try:
                return view(request, *args, **kwargs)
            except ApiError as exc:
                return JsonResponse({"error": exc.message}, status=exc.status)

        return wrapper

    return decorator


def _non_negative_int(request, name: str, default: int) -> int:
    raw = request.GET.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ApiError(400, f"{name} must be a whole number, got {raw[:40]!r}") from None
    if value < 0:
        raise ApiError(400, f"{name} must not be negative")
    return value


def page_params(request) -> tuple[int, int]:
    """`limit` and `offset` from the query string, validated against the configured bounds."""
    limit = _non_negative_int(request, "limit", settings.API_PAGE_SIZE)
    offset = _non_negative_int(request, "offset", 0)
    if limit < 1 or limit > settings.API_MAX_PAGE_SIZE:
        raise ApiError(400, f"limit must be between 1 and {settings.API_MAX_PAGE_SIZE}")
    return limit, offset


def paginate(request, items, serialize: Callable[[list], Iterable[dict]]) -> dict:
    """One page of a queryset or list as `{count, limit, offset, results}`."""
    limit, offset = page_params(request)
    count = items.count() if hasattr(items, "count") and not isinstance(items, list) else len(items)
    rows = list(items[offset : offset + limit])
    return {"count": count, "limit": limit, "offset": offset, "results": list(serialize(rows))}


def json_body(request) -> dict:
    """The request's JSON object (empty when there is no body), or a 400."""
    try:
        data = json.loads(request.body or b"{}")
    except (ValueError, UnicodeDecodeError):
        raise ApiError(400, "the body must be a JSON object") from None
    if not isinstance(data, dict):
        raise ApiError(400, "the body must be a JSON object")
    return data


def iso(value) -> str | None:
    """A datetime as ISO 8601, or None."""
    return value.isoformat() if value else None


def not_found(request, path: str = ""):
    """Any /api/ path no endpoint answers: a JSON 404, not the HTML page."""
    return JsonResponse({"error": f"no API endpoint at /api/{path[:200]}"}, status=404)


@api_view("GET")
def openapi(request):
    """The OpenAPI 3.1 document of every registered endpoint."""
    return JsonResponse(
        openapi_document(server_url=request.build_absolute_uri("/api")), json_dumps_params={"indent": 1}
    )
