"""Resolving a repository's owning team, and the parsers the chain relies on."""

import textwrap

import pytest

from fleetui.common.errors import PermanentAPIError, RateLimitedError, TransientAPIError
from notifications.ownership.backstage import BackstageClient
from notifications.ownership.rules import (
    codeowners_match,
    load_catalog_path,
    parse_catalog,
    parse_codeowners,
    parse_codeowners_with_warnings,
    resolve_owner,
)
from tests.fakes import backstage as backstage_fakes

CODEOWNERS = textwrap.dedent(
    """\
    # Default owners for everything
    *                   @acme/payments @alice
    /docs/              @acme/tech-writers
    *.tf                @acme/platform-infra
    /services/ledger/   @acme/ledger bob@acme.example
    apps/               @acme/apps
    /build/*            @acme/build
    /vendor/            @carol
    """
)

CATALOG = textwrap.dedent(
    """\
    apiVersion: backstage.io/v1alpha1
    kind: Component
    metadata:
      name: checkout-api
      annotations:
        github.com/project-slug: acme/checkout-api
    spec:
      type: service
      owner: group:default/checkout
    ---
    apiVersion: backstage.io/v1alpha1
    kind: Component
    metadata:
      name: search-ui
      annotations:
        github.com/project-slug: Acme/Search-UI
        slack.com/bot-notify: "#search-frontend"
    spec:
      owner: search
    ---
    apiVersion: backstage.io/v1alpha1
    kind: Component
    metadata:
      name: fraud-model
      annotations:
        github.com/project-slug: acme/fraud-model
    spec:
      owner: user:default/dave
    ---
    apiVersion: backstage.io/v1alpha1
    kind: Group
    metadata:
      name: checkout
      title: Checkout Crew
      aliases: [cko]
      annotations:
        slack.com/bot-notify: C0CHECKOUT
    spec:
      type: team
      profile:
        displayName: Checkout Platform
      children: []
    ---
    apiVersion: backstage.io/v1alpha1
    kind: Group
    metadata:
      name: search
    spec:
      type: team
      children: []
    """
)


def codeowners_team(text: str, *, paths: list[str] | None = None) -> str | None:
    """The team slug owning the migrated paths per CODEOWNERS (last match wins), or the root '*' rule's team."""
    return codeowners_match(text, paths=paths).team


def test_the_root_rule_decides_when_no_paths_are_given():
    assert codeowners_team(CODEOWNERS, paths=None) == "payments"


def test_individual_owners_are_ignored_when_the_rule_names_a_team():
    assert parse_codeowners(CODEOWNERS)[0].teams == ("payments",)
    assert codeowners_team(CODEOWNERS, paths=["services/ledger/main.go"]) == "ledger"


def test_the_last_matching_rule_wins():
    text = "*.py @acme/python\n/src/ @acme/core\n/src/legacy/ @acme/legacy\n"

    assert codeowners_team(text, paths=["src/legacy/old.py"]) == "legacy"
    assert codeowners_team(text, paths=["src/new.py"]) == "core"
    assert codeowners_team(text, paths=["tools/run.py"]) == "python"


def test_anchored_directory_rules_only_cover_that_directory_at_the_root():
    assert codeowners_team(CODEOWNERS, paths=["docs/guide/intro.md"]) == "tech-writers"
    assert codeowners_team(CODEOWNERS, paths=["lib/docs/intro.md"]) == "payments"


def test_unanchored_directory_rules_cover_that_directory_anywhere():
    assert codeowners_team(CODEOWNERS, paths=["web/apps/main.ts"]) == "apps"


def test_a_single_star_under_a_directory_does_not_reach_nested_files():
    assert codeowners_team(CODEOWNERS, paths=["build/Makefile"]) == "build"
    assert codeowners_team(CODEOWNERS, paths=["build/sub/Makefile"]) == "payments"


def test_extension_rules_match_at_any_depth():
    assert codeowners_team(CODEOWNERS, paths=["infra/modules/vpc/main.tf"]) == "platform-infra"


def test_the_team_covering_most_migrated_paths_owns_the_change():
    paths = ["docs/a.md", "docs/b.md", "src/app.py"]

    found = codeowners_match(CODEOWNERS, paths=paths)

    assert found.team == "tech-writers"
    assert "2/3" in found.detail


def test_a_rule_with_only_individual_owners_names_no_team():
    assert codeowners_team(CODEOWNERS, paths=["vendor/lib.c"]) is None
    assert codeowners_team("* @alice\n", paths=None) is None


def test_a_file_without_a_root_rule_names_no_team_for_the_whole_repository():
    assert codeowners_team("/docs/ @acme/docs\n", paths=None) is None


def test_double_star_patterns_match_any_number_of_directories():
    text = "**/migrations/** @acme/db\n"

    assert codeowners_team(text, paths=["a/b/migrations/0001.sql"]) == "db"
    assert codeowners_team(text, paths=["migrations/0001.sql"]) == "db"
    assert codeowners_team(text, paths=["a/b/0001.sql"]) is None


def test_malformed_codeowners_lines_become_warnings_not_crashes():
    text = "!secret.txt @acme/sec\n[abc].py @acme/x\n*.go @acme/go not-an-owner\n\\#notes.md @acme/docs # comment\n"

    rules, warnings = parse_codeowners_with_warnings(text)

    assert [r.pattern for r in rules] == ["*.go", "#notes.md"]
    assert rules[0].owners == ("@acme/go",)
    assert rules[1].owners == ("@acme/docs",)
    assert len(warnings) == 3
    assert any("line 1" in w for w in warnings) and any("not-an-owner" in w for w in warnings)


def test_catalog_components_and_groups_are_parsed_with_their_annotations():
    catalog = parse_catalog([CATALOG])

    assert catalog.component_for("acme/checkout-api").owner == "checkout"
    assert catalog.component_for("ACME/search-ui").owner == "search"
    assert catalog.notify_channel(repo="acme/search-ui") == "#search-frontend"
    assert catalog.notify_channel(repo="acme/checkout-api") == "C0CHECKOUT"
    info = catalog.team_info("checkout")
    assert info.name == "Checkout Platform"
    assert set(info.aliases) == {"cko", "Checkout Crew"}
    assert catalog.team_info("unknown-team").slug == "unknown-team"


def test_a_component_owned_by_a_user_gives_no_team_and_a_warning():
    catalog = parse_catalog([CATALOG])

    assert catalog.component_for("acme/fraud-model").owner is None
    assert any("fraud-model" in w for w in catalog.warnings)


def test_malformed_catalog_yaml_becomes_a_warning_and_the_rest_still_loads():
    broken = "kind: Component\nmetadata: [unclosed\n"
    no_slug = "kind: Component\nmetadata:\n  name: orphan\nspec:\n  owner: team-x\n"

    catalog = parse_catalog([broken, CATALOG, no_slug, "- just\n- a list\n"])

    assert catalog.component_for("acme/checkout-api") is not None
    assert len(catalog.warnings) >= 3
    assert any("invalid YAML" in w for w in catalog.warnings)
    assert any("orphan" in w for w in catalog.warnings)


def test_a_catalog_folder_is_read_file_by_file(tmp_path):
    (tmp_path / "teams").mkdir()
    (tmp_path / "teams" / "groups.yaml").write_text(CATALOG.split("---")[3])
    (tmp_path / "checkout.yml").write_text(CATALOG.split("---")[0])
    (tmp_path / "broken.yaml").write_text("kind: [\n")
    (tmp_path / "README.md").write_text("kind: Component")

    catalog = load_catalog_path(tmp_path)

    assert set(catalog.components) == {"acme/checkout-api"}
    assert set(catalog.groups) == {"checkout"}
    assert [w for w in catalog.warnings if w.startswith("broken.yaml")]


def test_a_single_catalog_file_can_be_loaded(tmp_path):
    file = tmp_path / "catalog-info.yaml"
    file.write_text(CATALOG)

    assert set(load_catalog_path(file).groups) == {"checkout", "search"}


def test_an_override_beats_every_other_source():
    owner = resolve_owner(
        "Acme/Checkout-API",
        overrides={"acme/checkout-api": "Payments"},
        codeowners_text=CODEOWNERS,
        catalog=parse_catalog([CATALOG]),
    )

    assert (owner.team_slug, owner.source) == ("payments", "override")


def test_codeowners_beats_the_catalog_and_names_the_deciding_line():
    owner = resolve_owner(
        "acme/checkout-api",
        overrides={},
        codeowners_text=CODEOWNERS,
        catalog=parse_catalog([CATALOG]),
        paths=["docs/x.md"],
    )

    assert (owner.team_slug, owner.source) == ("tech-writers", "codeowners")
    assert "line 3" in owner.detail


def test_the_catalog_decides_when_codeowners_names_no_team():
    owner = resolve_owner(
        "acme/checkout-api", overrides=None, codeowners_text="* @alice\n", catalog=parse_catalog([CATALOG])
    )

    assert (owner.team_slug, owner.source) == ("checkout", "catalog")


def test_a_repository_nobody_owns_is_unowned_with_the_reasons():
    owner = resolve_owner("acme/fraud-model", overrides={}, codeowners_text=None, catalog=parse_catalog([CATALOG]))

    assert (owner.team_slug, owner.source) == (None, "none")
    assert "no CODEOWNERS" in owner.detail


def test_codeowners_warnings_travel_with_the_ownership():
    owner = resolve_owner("acme/x", overrides={}, codeowners_text="* @acme/core nonsense\n!x @acme/y\n", catalog=None)

    assert owner.team_slug == "core"
    assert len(owner.warnings) == 2


# -- Backstage catalog API -------------------------------------------------------------------------

fake_backstage = backstage_fakes.fake_backstage


def test_the_backstage_client_reads_components_and_groups_across_cursor_pages(fake_backstage):
    fake_backstage.entities += [backstage_fakes.component(f"svc-{i}", f"acme/svc-{i}", "payments") for i in range(7)]
    fake_backstage.entities.append({"kind": "User", "metadata": {"name": "dave"}, "spec": {}})

    catalog = BackstageClient(fake_backstage.url, timeout=5).fetch_catalog(page_size=3)

    assert set(catalog.groups) == {"payments", "search"}
    assert len(catalog.components) == 10
    assert catalog.component_for("acme/ledger").owner == "payments"
    assert catalog.notify_channel(repo="acme/ledger") == "#payments"
    paths = [path for path, _ in fake_backstage.requests]
    assert paths and set(paths) == {"/api/catalog/entities/by-query"}
    assert len(paths) == 4  # 12 components and groups, 3 a page
    assert fake_backstage.requests[0][1]["filter"] == ["kind=component", "kind=group"]


def test_the_backstage_client_falls_back_to_offset_paging_on_older_backstage(fake_backstage):
    fake_backstage.cursor_api = False

    catalog = BackstageClient(fake_backstage.url, timeout=5).fetch_catalog(page_size=2)

    assert set(catalog.components) == {"acme/ledger", "acme/search-ui", "acme/orphan"}
    assert catalog.component_for("acme/orphan").owner is None
    offsets = [query["offset"][0] for path, query in fake_backstage.requests if path == "/api/catalog/entities"]
    assert offsets == ["0", "2", "4"]


def test_the_backstage_catalog_feeds_the_ownership_chain(fake_backstage):
    catalog = BackstageClient(fake_backstage.url).fetch_catalog()

    owner = resolve_owner("acme/search-ui", overrides={}, codeowners_text="", catalog=catalog)

    assert (owner.team_slug, owner.source) == ("search", "catalog")


def test_the_backstage_client_sends_its_token_and_reports_refusals_as_permanent(fake_backstage):
    fake_backstage.token = "s3cret"

    with pytest.raises(PermanentAPIError) as refused:
        BackstageClient(fake_backstage.url).fetch_catalog()
    catalog = BackstageClient(fake_backstage.url, token="s3cret").fetch_catalog()

    assert refused.value.status == 401
    assert len(catalog.components) == 3


def test_backstage_server_errors_and_rate_limits_are_transient(fake_backstage):
    fake_backstage.fail_next(503)
    fake_backstage.fail_next(429)
    client = BackstageClient(fake_backstage.url)

    with pytest.raises(TransientAPIError) as server_error:
        client.fetch_catalog()
    with pytest.raises(RateLimitedError):
        client.fetch_catalog()

    assert server_error.value.status == 503
    assert len(client.fetch_catalog().groups) == 2


def test_an_unreachable_backstage_is_transient():
    with pytest.raises(TransientAPIError):
        BackstageClient("http://127.0.0.1:9", timeout=1).fetch_catalog()
