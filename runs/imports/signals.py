"""Signals of trace import, for the stages that follow it (clustering listens; import knows none of them)."""

from django.dispatch import Signal

# Sent once an import run has read every experiment, inside its last transaction; `run` is the ImportRun.
# Receivers that start background work should do so with transaction.on_commit.
import_finished = Signal()
