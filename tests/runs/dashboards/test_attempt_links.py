"""An attempt's page links out: to its trace in MLflow's UI, to the clusters its failures joined and to its pull request."""

import re
from html import unescape

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from fleetui.common.roles import VIEWER
from runs.fleet.models import Outcome, PullRequest
from tests.factories import (
    make_attempt,
    make_judge,
    make_migration,
    make_pull_request,
    make_repo,
    make_user,
    make_verifier_result,
)
from triage.clusters.models import ClusterKind, ClusterMember, FailureCluster

pytestmark = pytest.mark.django_db

XSS = "<script>alert('x')</script>"


def page_of(attempt) -> str:
    client = Client()
    client.force_login(make_user(role=VIEWER))
    response = client.get(reverse("attempt-detail", args=[attempt.trace_id]))
    assert response.status_code == 200
    return response.content.decode()


def links(html: str) -> dict[str, list[str]]:
    """The page's outward links by kind (data-link), their addresses unescaped as a browser reads them."""
    found: dict[str, list[str]] = {}
    for href, kind in re.findall(r'<a href="([^"]*)"[^>]*data-link="([^"]+)"', html):
        found.setdefault(kind, []).append(unescape(href))
    return found


def place(attempt, cluster, kind=ClusterKind.VERIFY):
    return ClusterMember.objects.create(
        cluster=cluster,
        migration=attempt.migration,
        attempt=attempt,
        kind=kind,
        repository=attempt.repository,
        joined_at=timezone.now(),
    )


def test_the_attempt_page_links_to_its_mlflow_trace_its_clusters_and_its_pull_request(settings):
    settings.MLFLOW_UI_URL = "http://mlflow.example:5000/"
    migration = make_migration("java-21")
    attempt = make_attempt(migration, make_repo("org/svc"), outcome=Outcome.VERIFY_FAILED, experiment_id="7")
    make_verifier_result(attempt, passed=False, snippet="cannot find symbol")
    make_judge(attempt)
    verify = FailureCluster.objects.create(migration=migration, title="cannot find symbol")
    judge = FailureCluster.objects.create(migration=migration, kind=ClusterKind.JUDGE, title="incomplete change")
    place(attempt, verify)
    place(attempt, judge, kind=ClusterKind.JUDGE)
    make_pull_request(attempt, number=41, state=PullRequest.State.OPEN, draft=True, checks="failure")

    html = page_of(attempt)
    found = links(html)
    assert found["mlflow"] == [
        f"http://mlflow.example:5000/#/experiments/7/traces?selectedEvaluationId={attempt.trace_id}"
    ]
    assert found["cluster"] == [reverse("cluster-detail", args=[verify.pk]), reverse("cluster-detail", args=[judge.pk])]
    assert f"Cluster #{verify.pk}: cannot find symbol" in html and f"Cluster #{judge.pk}: incomplete change" in html
    assert found["pull-request"] == ["https://github.com/org/svc/pull/41"]
    assert "Pull request #41" in html and "open, draft, CI failure" in html


def test_an_attempt_without_a_synced_pull_request_links_to_the_address_its_trace_named():
    attempt = make_attempt(pr_url="https://github.com/org/a/pull/9")
    assert links(page_of(attempt))["pull-request"] == ["https://github.com/org/a/pull/9"]


def test_there_is_no_mlflow_link_when_no_mlflow_ui_address_is_set(settings):
    settings.MLFLOW_UI_URL = ""
    attempt = make_attempt(experiment_id="7")
    place(attempt, FailureCluster.objects.create(migration=attempt.migration, title="boom"))
    html = page_of(attempt)
    found = links(html)
    assert "mlflow" not in found and "Open trace in MLflow" not in html
    assert "cluster" in found


def test_an_attempt_in_no_cluster_and_without_a_pull_request_has_no_such_links(settings):
    settings.MLFLOW_UI_URL = "http://mlflow.example:5000"
    found = links(page_of(make_attempt(outcome=Outcome.SUCCEEDED)))
    assert set(found) == {"mlflow"}


def test_link_addresses_and_titles_are_escaped(settings):
    settings.MLFLOW_UI_URL = "http://mlflow.example:5000"
    attempt = make_attempt(
        make_migration("m"),
        make_repo("org/svc"),
        trace_id="tr-1&x=\"'<b>",
        experiment_id="7/../<i>&",
        pr_url='https://github.com/org/svc/pull/1"><script>x</script>',
    )
    place(attempt, FailureCluster.objects.create(migration=attempt.migration, title=f"fails {XSS}"))

    html = page_of(attempt)
    assert XSS not in html and "<script>x</script>" not in html and "<b>" not in html and "<i>" not in html
    assert "fails &lt;script&gt;" in html
    found = links(html)
    assert found["mlflow"] == [
        "http://mlflow.example:5000/#/experiments/7%2F..%2F%3Ci%3E%26/traces?selectedEvaluationId="
        "tr-1%26x%3D%22%27%3Cb%3E"
    ]
    assert found["pull-request"] == ['https://github.com/org/svc/pull/1"><script>x</script>']
