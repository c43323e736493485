"""The JSON API kit: errors, method checks, pagination, request bodies, timestamps and the OpenAPI endpoint."""

import re
from collections.abc import Callable, Iterable
from functools import wraps

from django.conf import settings
from django.http import JsonResponse

from fleetui.common.openapi import openapi_document
from fleetui.common.untrusted import UntrustedInputError, json_loads_bounded, unstorable

_DIGITS = re.compile(r"[0-9]+")


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


def _bounded_int(request, name: str, default: int, *, minimum: int, maximum: int) -> int:
    raw = request.GET.get(name)
    if raw is None:
        return default
    # Only plain ASCII digits: int() would also take "1_000", " 7" and other scripts' digits.
    if not _DIGITS.fullmatch(raw) or len(raw) > len(str(maximum)) or not minimum <= int(raw) <= maximum:
        raise ApiError(400, f"{name} must be a whole number from {minimum} to {maximum}, got {raw[:40]!r}")
    return int(raw)


def page_params(request) -> tuple[int, int]:
    """`limit` and `offset` from the query string, validated against the configured bounds."""
    limit = _bounded_int(request, "limit", settings.API_PAGE_SIZE, minimum=1, maximum=settings.API_MAX_PAGE_SIZE)
    offset = _bounded_int(request, "offset", 0, minimum=0, maximum=settings.API_MAX_OFFSET)
    return limit, offset


def paginate(request, items, serialize: Callable[[list], Iterable[dict]], *, count: int | None = None) -> dict:
    """One page of a queryset or list as `{count, limit, offset, results}`; `count` when the caller knows it
    more cheaply than counting `items`."""
    limit, offset = page_params(request)
    if count is None:
        count = items.count() if hasattr(items, "count") and not isinstance(items, list) else len(items)
    rows = list(items[offset : offset + limit])
    return {"count": count, "limit": limit, "offset": offset, "results": list(serialize(rows))}


def json_body(request, *, allowed: Iterable[str] | None = None) -> dict:
    """The request's JSON object (empty when there is no body), or a 400; `allowed` names the only keys it may have."""
    try:
        data = json_loads_bounded(request.body or b"{}")
    except UntrustedInputError as exc:
        raise ApiError(400, str(exc)) from None
    if not isinstance(data, dict):
        raise ApiError(400, "the body must be a JSON object")
    if allowed is not None:
        unknown = sorted(set(data) - set(allowed))
        if unknown:
            raise ApiError(400, f"unknown field {', '.join(unknown)[:200]}; allowed: {', '.join(sorted(allowed))}")
    return data


def string_list(body: dict, key: str, *, max_items: int, max_length: int = 300) -> list[str]:
    """`body[key]` as a list of at most `max_items` non-empty strings of at most `max_length` characters ([] when absent)."""
    value = body.get(key)
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(item, str) and item for item in value):
        raise ApiError(400, f"{key} must be a list of non-empty strings")
    if len(value) > max_items:
        raise ApiError(400, f"{key} may hold at most {max_items} entries, got {len(value)}")
    if any(len(item) > max_length or unstorable(item) for item in value):
        raise ApiError(400, f"each entry of {key} must be at most {max_length} characters of text")
    return value


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
