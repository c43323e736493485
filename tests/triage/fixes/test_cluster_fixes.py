"""How a cluster was fixed elsewhere, through real MLflow traces: imported, clustered, then read back on demand."""

import pytest
from django.urls import reverse

from fleetui.common.roles import MIGRATION_OWNER, VIEWER
from runs.fleet.models import Attempt
from runs.imports import mlflow as mlflow_client
from tests.factories import make_api_token, make_user
from tests.mlflow_support import free_port
from triage.clusters.fixes.edits import MAX_TEXT
from triage.clusters.fixes.prompt import fix_example_from_param

pytestmark = pytest.mark.django_db(transaction=True)


def _api(client, path: str):
    headers = {"Authorization": f"Bearer {make_api_token(make_user(role=VIEWER))}"}
    return client.get(path, headers=headers)


def test_a_repository_that_passed_on_a_later_attempt_shows_the_edits_that_touched_the_cause(client, fleet):
    response = _api(client, f"/api/clusters/{fleet.cluster.pk}/fixes")

    assert response.status_code == 200
    fixes = response.json()
    assert [(f["repo"], f["migration"], f["attempt"]) for f in fixes] == [
        ("acme/jobs", "structured-logging", 2),
        ("acme/ml", "python-3-12", 2),
    ]
    jobs = fixes[0]
    assert jobs["trace_id"] == fleet.ids["jobs"] and jobs["touches_cause"] is True
    files = [edit["file"].rsplit("/", 1)[-1] for edit in jobs["edits"]]
    assert set(files) == {"requirements.txt", "log.py"}  # the README edit names nothing of the cause
    requirements = next(e for e in jobs["edits"] if e["file"].endswith("requirements.txt"))
    assert requirements["before"] == "pytest==8.3.3\n" and "structlog==24.1.0" in requirements["after"]
    assert len(requirements["after"]) <= MAX_TEXT
    assert set(jobs) == {"repo", "migration", "trace_id", "attempt", "touches_cause", "edits"}


def test_a_cluster_nobody_fixed_answers_an_empty_list_and_an_unknown_one_404(client, fleet):
    Attempt.objects.filter(outcome="succeeded").update(outcome="verify_failed")

    assert _api(client, f"/api/clusters/{fleet.cluster.pk}/fixes").json() == []
    assert _api(client, "/api/clusters/999999/fixes").status_code == 404


def test_the_cluster_page_shows_the_fixes_as_escaped_diffs_with_a_link_to_use_one_in_the_prompt(client, fleet):
    client.force_login(make_user(role=MIGRATION_OWNER))

    html = client.get(reverse("cluster-fixes", args=[fleet.cluster.pk])).content.decode()

    assert "How it was fixed elsewhere" in html
    assert "+structlog==24.1.0" in html and "in python-3-12" in html
    assert "<script>alert(" not in html and "&lt;script&gt;alert(&#x27;edit&#x27;)&lt;/script&gt;" in html
    assert reverse("attempt-detail", args=[fleet.ids["jobs"]]) in html
    link = f"{reverse('rerun-new', args=['structured-logging'])}?cluster={fleet.cluster.pk}&amp;example={fleet.cluster.pk}:{fleet.ids['jobs']}"
    assert link in html
    assert html.count("#" * 4000) == 0  # the 300 000-character line is capped in the diff


def test_a_viewer_sees_the_fixes_but_no_prompt_link(client, fleet):
    client.force_login(make_user(role=VIEWER))

    html = client.get(reverse("cluster-fixes", args=[fleet.cluster.pk])).content.decode()

    assert "+structlog==24.1.0" in html and "data-use-example" not in html


def test_the_worked_example_names_its_source_and_carries_the_diff(fleet):
    migration_id = fleet.cluster.migration_id
    param = f"{fleet.cluster.pk}:{fleet.ids['jobs']}"

    text = fix_example_from_param(param, migration_id=migration_id)

    assert text.startswith(
        f"Worked example (from acme/jobs, attempt 2 of structured-logging, trace {fleet.ids['jobs']})"
    )
    assert "+structlog==24.1.0" in text and "requirements.txt" in text and len(text) <= 6_100
    assert fix_example_from_param(param, migration_id=migration_id + 1000) == ""
    assert fix_example_from_param(f"{fleet.cluster.pk}:tr-not-a-fix", migration_id=migration_id) == ""
    assert fix_example_from_param("1:<script>", migration_id=migration_id) == ""


def test_edits_are_read_from_mlflow_once_then_from_the_cache(client, fleet, monkeypatch):
    loads = []
    original = mlflow_client.TraceSource.load

    def counting(self, trace_ids):
        loads.append(sorted(trace_ids))
        return original(self, trace_ids)

    monkeypatch.setattr(mlflow_client.TraceSource, "load", counting)

    first = _api(client, f"/api/clusters/{fleet.cluster.pk}/fixes").json()
    second = _api(client, f"/api/clusters/{fleet.cluster.pk}/fixes").json()

    assert first == second and len(first) == 2
    assert loads == [sorted(fleet.ids.values())]


def test_an_unreachable_mlflow_answers_503_and_the_page_says_so(client, fleet, settings):
    settings.MLFLOW_TRACKING_URI = f"http://127.0.0.1:{free_port()}"
    client.force_login(make_user(role=VIEWER))

    response = _api(client, f"/api/clusters/{fleet.cluster.pk}/fixes")
    page = client.get(reverse("cluster-fixes", args=[fleet.cluster.pk]))

    assert response.status_code == 503 and "MLflow could not" in response.json()["error"]
    assert page.status_code == 200 and "data-fixes-error" in page.content.decode()


def test_the_openapi_document_describes_the_fixes_endpoint(client, role_groups_and_empty_cache):
    doc = _api(client, "/api/openapi.json").json()

    operation = doc["paths"]["/clusters/{id}/fixes"]["get"]
    assert operation["operationId"] == "cluster_fixes"
    assert {"200", "404", "503"} <= set(operation["responses"])
    fix = doc["components"]["schemas"]["ClusterFix"]
    assert set(fix["required"]) == {"repo", "migration", "trace_id", "attempt", "touches_cause", "edits"}


def test_using_a_fix_as_an_example_opens_the_rerun_form_with_it_at_the_end_of_the_prompt(client, fleet):
    client.force_login(make_user(role=MIGRATION_OWNER))
    url = reverse("rerun-new", args=["structured-logging"])
    example = f"{fleet.cluster.pk}:{fleet.ids['jobs']}"

    form = client.get(url, {"cluster": fleet.cluster.pk, "example": example})
    edited = client.get(url, {"cluster": fleet.cluster.pk, "example": example, "prompt": "My own words."})

    prompt = form.context["prompt"]
    assert "Worked example (from acme/jobs" in prompt and "+structlog==24.1.0" in prompt
    assert form.context["example"] is True and "data-example-added" in form.content.decode()
    assert edited.context["prompt"] == "My own words.", "text the owner already edited is kept as it is"


def test_the_cluster_page_loads_its_fixes_after_the_page(client, fleet):
    client.force_login(make_user(role=VIEWER))

    html = client.get(reverse("cluster-detail", args=[fleet.cluster.pk])).content.decode()

    assert f'hx-get="{reverse("cluster-fixes", args=[fleet.cluster.pk])}"' in html
    assert "How it was fixed elsewhere" in html and "+structlog" not in html, "the diffs come with the section"
