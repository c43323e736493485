"""Signals of trace import, for the stages that follow it (clustering listens; import knows none of them)."""

from django.dispatch import Signal

# Sent once an import run has read every experiment, just before it is marked succeeded; `run` is the ImportRun.
# A receiver that starts background work does so with transaction.on_commit, in case the caller holds a transaction.
import_finished = Signal()
