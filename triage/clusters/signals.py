"""Signals of clustering, for the stages that follow it (clustering knows none of them)."""

from django.dispatch import Signal

# Sent once a clustering run has ended and its row is saved; `run` is the ClusteringRun (any final status).
# Receivers must not raise: a failing follow-up does not make the clustering run fail.
clustering_finished = Signal()
