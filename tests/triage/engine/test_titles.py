"""A cluster's title is the deciding line as printed, with what its members do not share left open."""

from triage.engine.clustering import cluster_failures, prepare_failure
from triage.engine.titles import fit_title, shared_line

REPOS = ("acme/billing", "acme/ledger", "shop/orders", "web/admin")
MASKS = ("<v>", "<n>", "<url>", "<path>", "<host>", "<repo>", "<owner>", "<file>")


def _convergence(repo: str, version: str) -> str:
    name = repo.split("/")[1]
    return (
        "[ERROR] Failed to execute goal org.apache.maven.plugins:maven-enforcer-plugin:3.5.0:enforce (enforce) on project "
        f"{name}:\n[ERROR] Rule 0: org.apache.maven.enforcer.rules.dependency.DependencyConvergence failed with message:\n"
        f"[ERROR] Dependency convergence error for com.google.guava:guava:jar:{version} paths to dependency are:\n"
        f"[ERROR] +-com.{name}:{name}:1.0.0-SNAPSHOT\n"
    )


def _maven_timeout(repo: str, artifact: str, host: str) -> str:
    name = repo.split("/")[1]
    return (
        f"[ERROR] Failed to execute goal on project {name}: Could not resolve dependencies for project "
        f"com.{name}:{name}:jar:1.0.0-SNAPSHOT: Failed to collect dependencies at {artifact}: Failed to read artifact "
        f"descriptor for {artifact}: The following artifacts could not be resolved: {artifact} (absent): Could not "
        f"transfer artifact {artifact} from/to central (https://{host}/maven2): Connect to {host}:443 "
        f"[{host}/10.{len(name)}.{len(artifact)}.7] failed: Connect timed out\n"
        "[ERROR] -> [Help 1]\n"
    )


def _npm_timeout(package: str, host: str, ip: str) -> str:
    return (
        "npm error code ETIMEDOUT\nnpm error syscall connect\nnpm error errno ETIMEDOUT\n"
        f"npm error network request to https://{host}/{package} failed, reason: connect ETIMEDOUT {ip}:443\n"
        "npm error network This is a problem related to network connectivity.\n"
        "npm error network In most cases you are behind a proxy or have bad network settings.\n"
        "npm error network\nnpm error network If you are behind a proxy, please make sure that the\n"
        "npm error network 'proxy' config is set properly.  See: 'npm help config'\n"
    )


def test_what_the_lines_do_not_share_is_an_ellipsis_never_one_members_value():
    assert shared_line(["got 500, want 200", "got 3, want 2"]) == "got …, want …"
    assert (
        shared_line(["connect ETIMEDOUT 104.16.77.36:443", "connect ETIMEDOUT 104.16.70.169:443"])
        == "connect ETIMEDOUT …:443"
    )
    assert shared_line(["No module named 'structlog'"] * 3) == "No module named 'structlog'"
    assert shared_line(["abc def", "xyz uvw"]) == ""


def test_a_cluster_title_is_the_printed_line_without_masks_and_without_one_members_version():
    versions = ("2.7.16", "2.9.11", "2.7.16", "3.0.1")
    items = [prepare_failure(r, _convergence(r, v), repo=r) for r, v in zip(REPOS, versions, strict=True)]
    (cluster,) = cluster_failures(items)
    assert cluster.title == "Dependency convergence error for com.google.guava:guava:jar:… paths to dependency are:"
    assert not any(mask in cluster.title for mask in MASKS)


def test_a_network_timeout_is_one_cause_per_host_whatever_artifact_it_was_fetching():
    artifacts = (
        "org.slf4j:slf4j-api:jar:2.0.16",
        "org.assertj:assertj-core:jar:3.26.3",
        "io.micrometer:micrometer-core:jar:1.13.4",
    )
    items = [
        prepare_failure(f"{host}|{a}@{r}", _maven_timeout(r, a, host), repo=r)
        for host in ("nexus.acme.internal", "repo.maven.apache.org")
        for a, r in zip(artifacts, REPOS, strict=False)
    ]
    clusters = cluster_failures(items)
    assert sorted(sorted({m.id.split("|")[0] for m in c.members}) for c in clusters) == [
        ["nexus.acme.internal"],
        ["repo.maven.apache.org"],
    ]
    for cluster in clusters:
        host = cluster.members[0].id.split("|")[0]
        assert cluster.title.endswith("failed: Connect timed out"), cluster.title
        assert host in cluster.title and "com.billing" not in cluster.title
        assert len(cluster.title) <= 200


def test_an_npm_timeout_is_titled_by_its_request_not_by_the_proxy_hint():
    items = [
        prepare_failure("a", _npm_timeout("@babel/core", "npm.acme.internal", "104.16.187.17"), repo="acme/billing"),
        prepare_failure("b", _npm_timeout("esbuild", "npm.acme.internal", "104.16.143.69"), repo="shop/orders"),
    ]
    (cluster,) = cluster_failures(items)
    assert cluster.title == "network request to https://npm.acme.internal/… failed, reason: connect ETIMEDOUT …:443"
    assert all("ETIMEDOUT" in m.deciding_line and "proxy" not in m.deciding_line for m in cluster.members)


def test_a_formatter_diff_line_is_titled_with_the_line_that_introduces_the_diff():
    snippet = (
        "Execution failed for task ':spotlessKotlinCheck'.\n> The following files had format violations:\n"
        "      src/main/kotlin/com/acme/billing/Ledger.kt\n          @@ -20,7 +20,6 @@\n"
        "          -import org.junit.Assert.assertEquals\n          +import org.junit.jupiter.api.Assertions.assertEquals\n"
        "  Run './gradlew :spotlessApply' to fix these violations.\n"
    )
    (cluster,) = cluster_failures([prepare_failure("s", snippet, repo="acme/billing")])
    assert cluster.title == "The following files had format violations: -import org.junit.Assert.assertEquals"


def test_a_long_chain_of_causes_keeps_its_first_and_last_clauses():
    chain = (
        "Could not resolve dependencies for project com.acme:a:jar:1.0: "
        + "Failed to read x: " * 12
        + "Connect timed out"
    )
    fitted = fit_title(chain)
    assert len(fitted) <= 200
    assert fitted.startswith("Could not resolve dependencies for project com.acme:a:jar:1.0: …: ")
    assert fitted.endswith("Failed to read x: Connect timed out")


def test_a_judge_cluster_is_titled_by_the_rationale_as_written_with_each_repositorys_part_left_open():
    said = "The new client is created per call instead of once in {}'s request handler; create it at start-up."
    items = [
        prepare_failure(f"j{i}", said.format(repo.split("/")[1]), repo=repo, kind="judge")
        for i, repo in enumerate(REPOS[:3])
    ]
    (cluster,) = cluster_failures(items)
    assert (
        cluster.title
        == "The new client is created per call instead of once in …'s request handler; create it at start-up."
    )


def test_gaps_with_only_spaces_or_a_possessive_between_them_are_one_gap():
    said = "The client is created per call in {}; create it at start-up."
    places = ("acme-api's OrderHandler handler", "billing's InvoiceService service", "web's Cart view")
    assert shared_line(said.format(place) for place in places) == said.format("…")
    assert shared_line(["expected 3 got 4 in a", "expected 5 got 6 in a"]) == "expected … got … in a"
