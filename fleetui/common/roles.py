"""Roles (Django groups) and the checks that guard views and API endpoints."""

from functools import wraps

from django.http import JsonResponse
from django.shortcuts import render

VIEWER = "viewer"
REVIEWER = "reviewer"
MIGRATION_OWNER = "migration owner"
ADMIN = "admin"
ROLES = (VIEWER, REVIEWER, MIGRATION_OWNER, ADMIN)


def real_user(user):
    """The user when a logged-in person acts, else None (anonymous requests, the scheduler, the command line)."""
    return user if getattr(user, "is_authenticated", False) else None


def user_roles(user) -> frozenset[str]:
    """The role names the user holds, cached on the user object for the request."""
    if not getattr(user, "is_authenticated", False):
        return frozenset()
    cached = getattr(user, "_fleetui_roles", None)
    if cached is None:
        cached = frozenset(user.groups.filter(name__in=ROLES).values_list("name", flat=True))
        user._fleetui_roles = cached
    return cached


def user_has_role(user, *roles: str) -> bool:
    """True when the user holds one of the roles; superusers and admins hold every role."""
    if not getattr(user, "is_authenticated", False) or not getattr(user, "is_active", False):
        return False
    if user.is_superuser:
        return True
    held = user_roles(user)
    return ADMIN in held or any(role in held for role in roles)


def is_api_request(request) -> bool:
    return request.path.startswith("/api/")


def forbidden_response(request, roles: tuple[str, ...], *, reason: str | None = None):
    """A 403 answer: JSON for the API, a page for the browser; `reason` replaces "this needs the … role"."""
    needed = " or ".join(roles) if roles else "a role"
    message = reason or f"this needs the {needed} role"
    if is_api_request(request):
        return JsonResponse({"error": message}, status=403)
    return render(request, "forbidden.html", {"needed_roles": roles, "reason": reason}, status=403)


def role_required(*roles: str):
    """Decorate a view so only users holding one of the roles (or admins) may call it."""

    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if not user_has_role(request.user, *roles):
                return forbidden_response(request, roles)
            return view(request, *args, **kwargs)

        return wrapper

    return decorator
