"""The triage app's models, defined in triage.clusters and loaded here for Django."""

from triage.clusters.models import ClusteringRun, ClusterKind, ClusterMember, FailureCluster

__all__ = ["ClusterKind", "FailureCluster", "ClusterMember", "ClusteringRun"]
