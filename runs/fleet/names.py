"""Repository names: what an `owner/name` may look like before it becomes a Repository row.

Names arrive from traces and forms, and later reach URLs, shell commands of rerun runners and
file paths of ownership lookups; a name such as `-x/..` must never get that far.
"""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError

MAX_PART = 100
# GitHub's own rules, a little wider for GitHub Enterprise (underscores, dots in owners).
_PART = re.compile(r"^[A-Za-z0-9_.-]+$")


def repository_name_error(name: object) -> str:
    """Why `name` is not a valid `owner/name` repository name, or "" when it is."""
    if not isinstance(name, str) or not name:
        return "is empty"
    shown = repr(name[:80])
    if name != name.strip():
        return f"{shown} has spaces around it"
    parts = name.split("/")
    if len(parts) != 2:
        return f"{shown} is not of the form owner/name"
    for (label, a_label), part in zip((("owner", "an owner"), ("name", "a name")), parts, strict=True):
        if not part:
            return f"{shown} has an empty {label}"
        if len(part) > MAX_PART:
            return f"{shown} has {a_label} longer than {MAX_PART} characters"
        if not _PART.match(part):
            return f"{shown} has characters other than letters, digits, '-', '_' and '.' in its {label}"
        if part.startswith("-"):
            return f"{shown} has {a_label} starting with '-'"
        if part in (".", ".."):
            return f"{shown} has {a_label} of {part!r}"
    owner, repo = parts
    if owner.startswith("."):
        return f"{shown} has an owner starting with '.'"
    if repo.lower().endswith(".git"):
        return f"{shown} ends in '.git': name the repository without it"
    return ""


def validate_repository_name(value: str) -> None:
    """A form and model field validator: raises ValidationError for a bad repository name."""
    error = repository_name_error(value)
    if error:
        raise ValidationError(f"Repository name {error}.", code="invalid_repository_name")
