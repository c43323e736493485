"""Resolving and storing each repository's owner: override, then CODEOWNERS, then the catalog, else none."""

from io import StringIO

import pytest
from django.core.management import call_command

from notifications.ownership.models import OwnershipOverride, RepositoryOwnership
from notifications.ownership.rules import parse_catalog
from notifications.ownership.services import codeowners_reader_github, ownership_override_set, ownership_resolve_all
from runs.fleet.models import AuditEvent, Repository, Team
from runs.github.client import GitHubClient
from tests.factories import make_repo, make_team, make_user

pytestmark = pytest.mark.django_db

CATALOG = """
apiVersion: backstage.io/v1alpha1
kind: Group
metadata: {name: payments, aliases: [pay]}
spec: {type: team, profile: {displayName: Payments Crew}}
---
apiVersion: backstage.io/v1alpha1
kind: Group
metadata: {name: checkout}
spec: {type: team}
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata: {name: api, annotations: {github.com/project-slug: acme/api}}
spec: {owner: group:default/payments}
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata: {name: web, annotations: {github.com/project-slug: acme/web}}
spec: {owner: group:default/payments}
"""


def write_codeowners(folder, full_name: str, text: str) -> None:
    folder.mkdir(exist_ok=True)
    (folder / full_name.replace("/", "__")).write_text(text)


def ownership_of(full_name: str) -> tuple[str | None, str]:
    repo = Repository.objects.select_related("team").get(full_name=full_name)
    return (repo.team.slug if repo.team else None, repo.ownership_source)


def test_the_chain_prefers_override_then_codeowners_then_catalog_and_records_each_source(tmp_path):
    for name in ("acme/api", "acme/web", "acme/lost", "acme/pinned"):
        make_repo(name)
    codeowners = tmp_path / "codeowners"
    write_codeowners(codeowners, "acme/web", "* @acme/checkout\n")
    write_codeowners(codeowners, "acme/pinned", "* @acme/checkout\n")
    admin = make_user(is_superuser=True)
    ownership_override_set(
        repository=Repository.objects.get(full_name="acme/pinned"), team=make_team("search"), user=admin
    )

    summary = ownership_resolve_all(codeowners_dir=codeowners, catalog=parse_catalog(CATALOG))

    assert ownership_of("acme/pinned") == ("search", "override")
    assert ownership_of("acme/web") == ("checkout", "codeowners")
    assert ownership_of("acme/api") == ("payments", "catalog")
    assert ownership_of("acme/lost") == (None, "none")
    assert summary.by_source == {"override": 1, "codeowners": 1, "catalog": 1, "none": 1}
    web = RepositoryOwnership.objects.get(repository__full_name="acme/web")
    assert "CODEOWNERS line 1" in web.detail
    lost = RepositoryOwnership.objects.get(repository__full_name="acme/lost")
    assert lost.team is None and "no CODEOWNERS file" in lost.detail


def test_teams_come_from_catalog_groups_and_codeowners_handles(tmp_path):
    make_repo("acme/tool")
    write_codeowners(tmp_path, "acme/tool", "* @acme/tooling\n")

    ownership_resolve_all(codeowners_dir=tmp_path, catalog=parse_catalog(CATALOG))

    payments = Team.objects.get(slug="payments")
    assert payments.name == "Payments Crew" and payments.aliases == ["pay"]
    assert Team.objects.filter(slug="checkout").exists()
    assert ownership_of("acme/tool") == ("tooling", "codeowners")


def test_codeowners_warnings_are_kept_with_the_provenance(tmp_path):
    make_repo("acme/api")
    write_codeowners(tmp_path, "acme/api", "* @acme/payments not-an-owner\n")

    ownership_resolve_all(codeowners_dir=tmp_path, catalog=None)

    record = RepositoryOwnership.objects.get(repository__full_name="acme/api")
    assert record.source == "codeowners"
    assert any("not-an-owner" in w for w in record.warnings)


def test_it_reads_codeowners_through_the_github_api_in_githubs_order(fake_github):
    make_repo("acme/api")
    make_repo("acme/web")
    fake_github.set_contents("acme", "api", "docs/CODEOWNERS", "* @acme/docs-team\n")
    fake_github.set_contents("acme", "web", "CODEOWNERS", "* @acme/root-team\n")
    fake_github.set_contents("acme", "web", ".github/CODEOWNERS", "* @acme/github-team\n")
    client = GitHubClient(fake_github.url, "token", timeout=5, max_retries=0)

    ownership_resolve_all(codeowners_reader=codeowners_reader_github(client), catalog=parse_catalog(CATALOG))

    assert ownership_of("acme/api") == ("docs-team", "codeowners")
    assert ownership_of("acme/web") == ("github-team", "codeowners")


def test_a_codeowners_read_that_fails_for_now_keeps_the_previous_owner(fake_github):
    repo = make_repo("acme/api", team=make_team("checkout"))
    Repository.objects.filter(pk=repo.pk).update(ownership_source="codeowners")
    fake_github.fail_next(10, 503)
    client = GitHubClient(fake_github.url, "token", timeout=5, max_retries=0)

    summary = ownership_resolve_all(codeowners_reader=codeowners_reader_github(client), catalog=parse_catalog(CATALOG))

    assert ownership_of("acme/api") == ("checkout", "codeowners")
    assert summary.kept == 1


def test_only_the_given_repositories_are_resolved(tmp_path):
    api, web = make_repo("acme/api"), make_repo("acme/web")

    ownership_resolve_all(repositories=[api], catalog=parse_catalog(CATALOG), codeowners_dir=tmp_path)

    assert ownership_of("acme/api") == ("payments", "catalog")
    assert ownership_of(web.full_name) == (None, "")


def test_setting_an_override_applies_it_and_writes_an_audit_event():
    repo = make_repo("acme/api")
    admin = make_user(is_superuser=True)

    ownership_override_set(repository=repo, team=make_team("search"), user=admin, reason="handed over")

    assert ownership_of("acme/api") == ("search", "override")
    assert OwnershipOverride.objects.get(repository=repo).reason == "handed over"
    assert AuditEvent.objects.filter(verb="ownership.override", target_id=str(repo.pk), actor=admin).exists()


def test_the_sync_ownership_command_reads_a_catalog_folder_and_codeowners_folder(tmp_path):
    (tmp_path / "catalog").mkdir()
    (tmp_path / "catalog" / "all.yaml").write_text(CATALOG)
    write_codeowners(tmp_path / "codeowners", "acme/web", "* @acme/checkout\n")
    make_repo("acme/api")
    make_repo("acme/web")
    out = StringIO()

    call_command(
        "sync_ownership",
        catalog=str(tmp_path / "catalog"),
        codeowners_dir=str(tmp_path / "codeowners"),
        stdout=out,
    )

    assert ownership_of("acme/api") == ("payments", "catalog")
    assert ownership_of("acme/web") == ("checkout", "codeowners")
    assert "2 repositories" in out.getvalue()
