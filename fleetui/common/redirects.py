"""Where a form sends the browser back to: the `next` it names, when that stays on this site."""

from django.utils.http import url_has_allowed_host_and_scheme


def next_url_or(request, default: str) -> str:
    """The request's `next` (POST, then GET) when it points at this host, else `default`."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()}, require_https=request.is_secure()):
        return target
    return default
