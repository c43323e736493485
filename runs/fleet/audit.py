"""The audit trail: every user action writes one event."""

from typing import Any

from django.db import models

from fleetui.common.roles import real_user
from runs.fleet.models import AuditEvent, Migration


def audit_event_record(
    *,
    actor: Any,
    verb: str,
    target: models.Model | None = None,
    migration: Migration | None = None,
    data: dict[str, Any] | None = None,
) -> AuditEvent:
    """Records that `actor` did `verb` to `target` (actor may be None for the system)."""
    user = real_user(actor)
    return AuditEvent.objects.create(
        actor=user,
        actor_name=user.get_username() if user else "system",
        verb=verb,
        target_type=target._meta.label_lower if target is not None else "",
        target_id=str(target.pk) if target is not None else "",
        target_label=str(target)[:500] if target is not None else "",
        migration=migration,
        data=data or {},
    )
