"""The cluster page links to MLflow's trace search of its members and says what was written there."""

import re
from urllib.parse import parse_qsl, unquote, urlsplit

import pytest
from django.urls import reverse
from mlflow import MlflowClient

from fleetui.common.roles import VIEWER
from tests.factories import make_user
from tests.triage.writeback.helpers import ASSERTION, SYMBOL, failing_trace, import_traces
from triage.clusters.models import ClusterMember, MlflowLabel
from triage.clusters.writeback import cluster_mlflow_search_url

pytestmark = pytest.mark.django_db(transaction=True)


def cluster_of(trace_id: str):
    return ClusterMember.objects.select_related("cluster", "migration").get(attempt__trace_id=trace_id).cluster


def ui_filter_string(filters: list[str]) -> str:
    """The search MLflow's traces page runs for its `filter` parameters (column::operator::value::key)."""
    clauses = []
    for item in filters:
        column, operator, value, key = item.split("::")
        field = {"ASSESSMENT": "feedback", "TAG": "tags"}[column]
        clauses.append(f"{field}.`{key}` {operator}" + (f" '{value}'" if value else ""))
    return " AND ".join(clauses)


def test_the_search_link_finds_exactly_the_clusters_member_traces(store, enabled, settings):
    settings.MLFLOW_UI_URL = "http://mlflow.example:5000/"
    symbols = [failing_trace(store, f"acme/sym-{n}", SYMBOL) for n in range(3)]
    failing_trace(store, "acme/api-0", ASSERTION)
    import_traces(store)

    url = cluster_mlflow_search_url(cluster=cluster_of(symbols[0]))

    fragment = urlsplit(url).fragment
    path, _, query = fragment.partition("?")
    assert url.startswith("http://mlflow.example:5000/#/experiments/")
    assert path == f"/experiments/{store.experiment_id}/traces"
    filters = [value for key, value in parse_qsl(query) if key == "filter"]
    found = MlflowClient(tracking_uri=store.uri).search_traces(
        locations=[store.experiment_id], filter_string=ui_filter_string(filters)
    )
    assert sorted(t.info.trace_id for t in found) == sorted(symbols)


def test_without_a_ui_address_the_link_falls_back_to_a_tracking_server_and_else_is_absent(store, enabled, settings):
    trace_id = failing_trace(store, "acme/sym-0", SYMBOL)
    import_traces(store)
    cluster = cluster_of(trace_id)

    assert cluster_mlflow_search_url(cluster=cluster) == ""
    settings.MLFLOW_TRACKING_URI = "https://mlflow.internal:5000"
    assert cluster_mlflow_search_url(cluster=cluster).startswith("https://mlflow.internal:5000/#/experiments/")


def test_the_cluster_page_shows_the_link_and_the_label_counts_escaped(store, enabled, settings, client):
    settings.MLFLOW_UI_URL = "http://mlflow.example:5000"
    trace_ids = [failing_trace(store, f"acme/sym-{n}", SYMBOL) for n in range(2)]
    import_traces(store)
    cluster = cluster_of(trace_ids[0])
    MlflowLabel.objects.filter(trace_id=trace_ids[1], name="fleet.cluster").update(
        status=MlflowLabel.Status.FAILED, error="MLflow could not <b>update</b>"
    )
    client.force_login(make_user(role=VIEWER))

    html = client.get(reverse("cluster-detail", args=[cluster.pk])).content.decode()

    [href] = re.findall(r'href="([^"]+)" data-link="mlflow-search"', html)
    assert unquote(href.replace("&amp;", "&")).endswith(f"::{cluster.migration.slug}::fleet.migration")
    assert "Labels in MLflow: 1 written" in html and "1 failed" in html
    assert "&lt;b&gt;update&lt;/b&gt;" in html and "<b>update</b>" not in html
