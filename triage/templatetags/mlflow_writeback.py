"""Template tags of the MLflow write-back: the cluster's trace search in MLflow and what was written there."""

from django import template

from triage.clusters.writeback import cluster_mlflow_search_url, cluster_writeback_summary

register = template.Library()


@register.simple_tag
def cluster_mlflow_url(cluster) -> str:
    """MLflow's trace search of the cluster's members; "" when no MLflow UI address is known."""
    return cluster_mlflow_search_url(cluster=cluster)


@register.simple_tag
def cluster_mlflow_labels(cluster) -> dict | None:
    """Counts of the cluster's labels in MLflow and the last error; None when nothing was written."""
    return cluster_writeback_summary(cluster=cluster)
