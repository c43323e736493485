"""A viewer in Chromium: every owner action on the dashboard, cluster, batch, nudge and repository pages is absent
or disabled with its reason, and posting those actions directly (with a valid CSRF token) answers 403."""

import re
import sys

import pytest

from fleetui.common.roles import MIGRATION_OWNER, VIEWER
from notifications.nudges.drafts import nudge_drafts_create
from notifications.nudges.models import Nudge
from runs.fleet.models import Attempt
from runs.imports.services import import_run_execute
from runs.reruns.dispatch import rerun_item_execute
from runs.reruns.models import RerunBatch, RerunOutcome
from runs.reruns.runners.command import CommandRunner
from runs.reruns.services import rerun_batch_create, rerun_results_link
from tests.browser.fleet_loop import (
    FIXED,
    STILL,
    agent_script,
    import_and_cluster,
    log_in,
    roles_present,
    write_fleet,
)
from tests.factories import make_user
from tests.notifications.nudges.ready import make_ready_pr
from triage.clusters.models import ClusteringRun, FailureCluster
from triage.clusters.services import clustering_run_execute

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

OWNER_BUTTONS = re.compile(
    r"Rerun|Nudge owners|Send selected|Save status|Save title|Merge|Move selected|Retry failed|Cancel|Add owner"
    r"|Import now|Draft for every|Set status|Assign|Snooze"
)


@pytest.fixture
def fleet(tmp_path, settings, monkeypatch):
    """Imported, clustered traces; an owner's settled rerun (one fixed, two still failing) and an open draft.

    The rerun runs in this process through the command runner and the agent script; no task leaves for a broker.
    """
    monkeypatch.setattr("runs.reruns.services.rerun_items_enqueue", lambda *, items: None)
    monkeypatch.setattr("runs.reruns.services.import_run_enqueue", lambda *, trigger, user=None: None)
    monkeypatch.setattr("runs.reruns.services._watchdog_on_commit", lambda: None)
    monkeypatch.setattr("triage.clusters.services.after_import", lambda run: None)
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    settings.MLFLOW_TRACKING_URI = uri
    settings.FLEETUI_RUNNER = "command"
    write_fleet(uri)
    roles_present()
    migration, cluster = import_and_cluster(uri)
    owner = make_user("owner", role=MIGRATION_OWNER)
    prompt = "Migrate the service to Java 21.\nReplace javax.annotation with jakarta.annotation."
    batch = rerun_batch_create(migration=migration, user=owner, cluster_id=cluster.pk, prompt=prompt)
    script = agent_script(tmp_path)
    runner = CommandRunner(
        template=f"{sys.executable} {script} {{repo}} {{attempt}} {{prompt_revision}} {{prompt_file}}", timeout=60
    )
    for item in batch.items.all():
        rerun_item_execute(item_id=item.pk, runner=runner)
    assert import_run_execute(tracking_uri=uri, trigger="test").status == "succeeded"
    clustering_run_execute(migration_id=migration.pk, mode=ClusteringRun.Mode.INCREMENTAL)
    rerun_results_link(batch=batch)
    outcomes = dict(batch.items.values_list("repository__full_name", "outcome"))
    assert outcomes == {FIXED: RerunOutcome.FIXED, **{repo: RerunOutcome.STILL_FAILING for repo in STILL}}
    make_ready_pr(Attempt.objects.filter(repository__full_name=FIXED).order_by("-number").first(), number=4242)
    (nudge,) = nudge_drafts_create(migration=migration, user=owner, repo_names=[FIXED]).drafts
    return migration, cluster, batch, nudge


def enabled_owner_buttons(page) -> list[str]:
    """Names of enabled buttons (and button-like summaries) on the page that would act as an owner."""
    names = page.eval_on_selector_all(
        "button:not([disabled]), summary.button, input[type=submit]:not([disabled])",
        "els => els.filter(e => e.offsetParent !== null || e.closest('details')).map(e => e.innerText || e.value)",
    )
    return [name for name in names if OWNER_BUTTONS.search(name or "")]


def disabled_with_reason(page, name: str) -> str:
    button = page.get_by_role("button", name=name)
    assert button.count() == 1, f"{name!r}: {button.count()} buttons"
    assert button.is_disabled(), f"{name!r} is enabled for a viewer"
    reason = button.get_attribute("title") or ""
    assert "Only this migration's owners and admins" in reason, reason
    return reason


def test_a_viewer_sees_no_enabled_owner_action_and_posting_one_answers_403(page, live_server, screenshots, fleet):
    migration, cluster, batch, nudge = fleet
    log_in(page, live_server, "viewer", VIEWER)
    base = live_server.url

    def visit(path: str, name: str, status: int = 200):
        response = page.goto(f"{base}{path}")
        assert response.status == status, f"{path}: {response.status}"
        page.screenshot(path=str(screenshots / f"viewer-{name}.png"), full_page=True)

    visit(f"/migrations/{migration.slug}/", "dashboard")
    assert page.get_by_role("heading", name="Owners").is_visible()
    assert (
        page.get_by_role("navigation", name=f"{migration.slug} pages").get_by_role("link", name="Nudges").count() == 0
    )
    assert page.get_by_label("Add a co-owner (a migration owner's username)").count() == 0
    assert enabled_owner_buttons(page) == []

    visit(f"/migrations/{migration.slug}/clusters/", "cluster-list")
    assert page.get_by_role("link", name=cluster.title, exact=True).count() >= 1
    assert page.get_by_text("Only this migration's owners and admins change clusters").is_visible()
    assert page.get_by_label("Select every cluster on this page").count() == 0
    assert enabled_owner_buttons(page) == []

    visit(f"/clusters/{cluster.pk}/", "cluster")
    assert page.locator("h1").inner_text() == cluster.title
    assert page.get_by_role("heading", name="Triage").count() == 0
    assert page.get_by_label("Status", exact=True).count() == 0
    disabled_with_reason(page, "Rerun selected…")
    disabled_with_reason(page, "Nudge owners…")
    assert enabled_owner_buttons(page) == []

    visit(f"/reruns/{batch.pk}/", "batch")
    outcomes = page.get_by_role("list", name="Items per outcome").inner_text()
    assert "fixed" in outcomes and "still failing" in outcomes
    assert page.get_by_role("button", name=re.compile("still failing")).count() == 0
    assert enabled_owner_buttons(page) == []

    visit(f"/migrations/{migration.slug}/repos/", "repos")
    assert page.get_by_role("link", name=FIXED, exact=True).count() >= 1
    disabled_with_reason(page, "Rerun selected…")
    disabled_with_reason(page, "Nudge owners…")
    assert enabled_owner_buttons(page) == []

    visit(f"/migrations/{migration.slug}/nudges/", "nudges", status=403)
    assert page.get_by_role("heading", name="Not allowed").is_visible()
    assert page.get_by_text("migration owner", exact=True).is_visible()
    assert nudge.text[:20] not in page.content()
    assert enabled_owner_buttons(page) == []

    visit(f"/migrations/{migration.slug}/reruns/new?cluster={cluster.pk}", "rerun-form", status=403)
    assert page.get_by_label("Prompt", exact=True).count() == 0

    visit("/imports/", "imports")
    assert page.get_by_role("button", name="Import now").count() == 0

    # The same actions posted straight to the server, each with the session's valid CSRF token.
    token = next(c["value"] for c in page.context.cookies() if c["name"] == "csrftoken")
    posts = {
        f"/migrations/{migration.slug}/reruns/new": {"confirm": "1", "cluster": str(cluster.pk), "prompt": "x"},
        f"/reruns/{batch.pk}/retry/": {},
        f"/reruns/{batch.pk}/cancel/": {},
        f"/migrations/{migration.slug}/nudges/new": {"cluster": str(cluster.pk)},
        f"/migrations/{migration.slug}/nudges/send": {"nudges": str(nudge.pk), "confirm": "1"},
        f"/nudges/{nudge.pk}/edit": {"text": "changed by a viewer"},
        f"/nudges/{nudge.pk}/cancel": {},
        f"/clusters/{cluster.pk}/action/": {"action": "update", "status": "wont_fix"},
        f"/migrations/{migration.slug}/clusters/bulk/": {
            "action": "status",
            "status": "wont_fix",
            "clusters": str(cluster.pk),
        },
        f"/migrations/{migration.slug}/owners": {"action": "add", "username": "viewer"},
        "/imports/start/": {},
        "/ownership/teams/payments/snooze/": {"days": "7", "migration": migration.slug},
    }
    for path, form in posts.items():
        response = page.request.post(
            f"{base}{path}", form=form, headers={"X-CSRFToken": token, "Referer": f"{base}/"}, max_redirects=0
        )
        body = response.text()
        assert response.status == 403, f"POST {path}: {response.status}"
        assert "CSRF verification failed" not in body, f"POST {path} was refused for its CSRF token, not for the role"

    assert RerunBatch.objects.count() == 1
    assert Nudge.objects.get(pk=nudge.pk).status == Nudge.Status.DRAFT
    assert "changed by a viewer" not in Nudge.objects.get(pk=nudge.pk).text
    assert FailureCluster.objects.get(pk=cluster.pk).status == cluster.status
    assert page.js_errors == []
