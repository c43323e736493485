"""Signals of ownership resolution, for the stages that follow it."""

from django.dispatch import Signal

# Sent after every repository's owner was resolved; `catalog` is the ownership catalog read for it (or None).
ownership_resolved = Signal()
