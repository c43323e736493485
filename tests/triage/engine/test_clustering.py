"""Clustering groups same-cause failures across repositories and keeps causes apart."""

import json
from dataclasses import asdict

import pytest

from triage.engine.clustering import ClusterExemplars, assign_failures, cluster_failures, prepare_failure


def _missing_symbol(repo: str, path: str, line: int, symbol: str) -> str:
    return (
        f"[INFO] Building {repo}\n[ERROR] Failed to execute goal org.apache.maven.plugins:maven-compiler-plugin:3.11.0:compile "
        f"(default-compile) on project {repo}: Compilation failure\n"
        f"[ERROR] /home/runner/_work/{repo}/{path}:[{line},9] cannot find symbol\n[ERROR]   symbol:   class {symbol}\n"
    )


def _npm_peer(version: str) -> str:
    return (
        "npm ERR! code ERESOLVE\nnpm ERR! ERESOLVE unable to resolve dependency tree\n"
        f'npm ERR! peer react@"^17.0.0" from @testing-library/react@{version}\n'
    )


def _items():
    return [
        prepare_failure(
            "m1", _missing_symbol("billing", "src/main/java/a/Pay.java", 12, "LegacyMoney"), repo="acme/billing"
        ),
        prepare_failure(
            "m2", _missing_symbol("ledger", "core/src/main/java/b/Entry.java", 88, "LegacyMoney"), repo="acme/ledger"
        ),
        prepare_failure("m3", _missing_symbol("orders", "src/x/Order.java", 5, "LegacyMoney"), repo="shop/orders"),
        prepare_failure("n1", _npm_peer("12.1.5"), repo="web/shop"),
        prepare_failure("n2", _npm_peer("12.1.4"), repo="web/admin"),
        prepare_failure("g1", "--- FAIL: TestLookup (0.00s)\n    table_test.go:21: got 3 routes, want 4\nFAIL\n"),
    ]


def _groups(clusters):
    return sorted(sorted(m.id for m in c.members) for c in clusters)


def test_it_puts_same_cause_failures_from_different_repositories_together_and_causes_apart():
    clusters = cluster_failures(_items())
    assert _groups(clusters) == [["g1"], ["m1", "m2", "m3"], ["n1", "n2"]]


def test_each_cluster_has_a_title_naming_the_cause_top_terms_a_medoid_and_reasons():
    clusters = cluster_failures(_items())
    maven = next(c for c in clusters if any(m.id == "m1" for m in c.members))
    assert "LegacyMoney" in maven.title or "cannot find symbol" in maven.title
    assert "BUILD FAILURE" not in maven.title and "Help" not in maven.title
    assert maven.top_terms
    assert maven.medoid_id in {"m1", "m2", "m3"}
    assert {m.why for m in maven.members} <= {"exact", "similar"}
    assert all(0.0 < m.score <= 1.0 for m in maven.members)
    alone = next(c for c in clusters if c.members[0].id == "g1")
    assert alone.members[0].why == "alone"
    json.dumps([asdict(c) for c in clusters])


def test_it_is_deterministic_and_orders_largest_cluster_first():
    first = [asdict(c) for c in cluster_failures(_items())]
    second = [asdict(c) for c in cluster_failures(list(reversed(_items())))]
    assert first == second
    sizes = [len(c["members"]) for c in first]
    assert sizes == sorted(sizes, reverse=True)


def test_judge_rationales_never_share_a_cluster_with_verifier_failures():
    text = "error TS2345: Argument of type 'string' is not assignable."
    items = [prepare_failure("v", text), prepare_failure("j", text, kind="judge")]
    clusters = cluster_failures(items)
    assert len(clusters) == 2
    assert {c.kind for c in clusters} == {"verify", "judge"}
    assert len({c.key for c in clusters}) == 2


def test_judge_rationales_of_one_reason_in_different_folders_share_a_cluster_titled_without_the_folder():
    deleted = "The agent deleted the failing tests ({} test methods in {}/{}) instead of migrating them."
    places = [(root, name) for root in ("src/test", "tests", "internal") for name in ("ledger", "audit", "billing")]
    items = [
        prepare_failure(f"r{i}", deleted.format(2 + i, root, name), kind="judge", repo=f"acme/{name}-{i}")
        for i, (root, name) in enumerate(places * 2)
    ]
    items.append(
        prepare_failure("skip", "The agent disabled a check to get a green build (-DskipTests).", kind="judge")
    )
    clusters = cluster_failures(items)
    assert sorted(len(c.members) for c in clusters) == [1, len(places) * 2]
    largest = max(clusters, key=lambda c: len(c.members))
    assert "ledger" not in largest.title and "internal" not in largest.title
    assert largest.title.startswith("The agent deleted the failing tests (")


def test_incremental_assignment_joins_the_right_cluster_or_returns_none():
    clusters = cluster_failures(_items())
    stored = [ClusterExemplars(c.key, c.signature, c.exemplars, c.kind) for c in clusters]
    maven_key = next(c.key for c in clusters if any(m.id == "m1" for m in c.members))
    npm_key = next(c.key for c in clusters if any(m.id == "n1" for m in c.members))
    new = [
        prepare_failure("m4", _missing_symbol("search", "src/s/Index.java", 401, "LegacyMoney"), repo="acme/search"),
        prepare_failure("n3", _npm_peer("13.0.0"), repo="web/docs"),
        prepare_failure("p1", "E   ModuleNotFoundError: No module named 'pydantic'\nFAILED tests/test_a.py::test_b"),
    ]
    results = assign_failures(new, stored, threshold=0.8)
    assert results[0][0] == maven_key and results[0][1] in {"exact", "similar"}
    assert results[1][0] == npm_key
    assert results[2][0] is None


def test_one_failure_alone_makes_one_cluster():
    clusters = cluster_failures([prepare_failure("only", "fatal: repository not found")])
    assert len(clusters) == 1 and clusters[0].members[0].why == "alone"
    assert cluster_failures([]) == []


def _pytest_import(repo: str, module: str) -> str:
    name = repo.split("/")[1]
    return (
        f"collected {len(name) * 7} items / 1 error\n"
        f"_______ ERROR collecting tests/unit/test_{name}_api.py _______\n"
        f"ImportError while importing test module '/home/runner/_work/{name}/{name}/tests/unit/test_{name}_api.py'.\n"
        "Traceback:\n"
        f"src/{name}/logs.py:{len(name)}: in <module>\n"
        f"    import {module}\n"
        f"E   ModuleNotFoundError: No module named '{module}'\n"
        f"ERROR tests/unit/test_{name}_api.py\n"
        "!!!!!!!!!!!!!!!!!!!! Interrupted: 1 error during collection !!!!!!!!!!!!!!!!!!!!\n"
    )


def _gradle_unresolved(repo: str, coordinate: str) -> str:
    name = repo.split("/")[1]
    return (
        "> Task :compileKotlin FAILED\n\nFAILURE: Build failed with an exception.\n\n* What went wrong:\n"
        "Execution failed for task ':compileKotlin'.\n"
        "> Could not resolve all files for configuration ':compileClasspath'.\n"
        f"   > Could not find {coordinate}.\n"
        "     Searched in the following locations:\n"
        f"       - https://repo.maven.apache.org/maven2/{coordinate.replace(':', '/')}.pom\n"
        f"     Required by:\n         project :{name}\n"
    )


def _eslint(repo: str, rule: str, message: str) -> str:
    name = repo.split("/")[1]
    return (
        "> eslint . --max-warnings 0\n\n"
        f"/home/runner/_work/{name}/{name}/src/services/{name.title()}Client.ts\n"
        f"  {len(name) * 3}:{len(name)}  error  {message}  {rule}\n\n"
        "\u2716 1 problem (1 error, 0 warnings)\n"
        "npm error Lifecycle script `lint` failed with error:\nnpm error code 1\n"
    )


def _tsc_property(repo: str, prop: str) -> str:
    name = repo.split("/")[1]
    return (
        "> tsc -p tsconfig.build.json\n\n"
        f"src/api/{name.title()}Store.ts({len(name) * 5},{len(name)}): error TS2339: "
        f"Property '{prop}' does not exist on type 'string'.\n"
        "npm error Lifecycle script `build` failed with error:\nnpm error code 2\n"
    )


def _pytest_assert(repo: str, compared: str) -> str:
    name = repo.split("/")[1]
    left = compared.split(" == ")[0]
    return (
        f"tests/unit/test_{name}.py ....F....                                  [100%]\n"
        "================================ FAILURES =================================\n"
        f"____________________ test_{name}_logs ____________________\n"
        f">       assert response.level == {compared.split(' == ')[1]}\n"
        f"E       assert {compared}\n"
        f"E        +  where {left} = <Response status={len(name) * 40}>.level\n"
        f"tests/unit/test_{name}.py:{len(name) * 4}: AssertionError\n"
        "========================= short test summary info =========================\n"
        f"FAILED tests/unit/test_{name}.py::test_{name}_logs - assert {compared}\n"
    )


def _rust_mismatch(repo: str, types: str) -> str:
    name = repo.split("/")[1]
    expected, found = types.split(" / ")
    return (
        f"   Compiling {name} v0.1.{len(name)} (/home/runner/_work/{name}/{name})\n"
        "error[E0308]: mismatched types\n"
        f"  --> src/{name}.rs:{len(name) * 9}:17\n"
        "   |\n"
        f"{len(name) * 9} |     let level = {name}_level(&config);\n"
        f"   |                 ^^^^^^ expected `{expected}`, found `{found}`\n"
        "For more information about this error, try `rustc --explain E0308`.\n"
        f"error: could not compile `{name}` (lib) due to 1 previous error\n"
    )


PAIRS = [
    ("module", _pytest_import, ("structlog", "pythonjsonlogger")),
    ("artifact", _gradle_unresolved, ("com.google.guava:guava:33.1.0-jre", "org.slf4j:slf4j-api:2.0.16")),
    (
        "rule",
        lambda repo, rule: _eslint(repo, rule, f"'{repo[-3:]}Logger' is defined but never used"),
        ("no-unused-vars", "@typescript-eslint/no-unused-vars"),
    ),
    ("property", _tsc_property, ("substr", "trimLeft")),
    ("assertion", _pytest_assert, ("'INFO' == 'info'", "404 == 200")),
    ("types", _rust_mismatch, ("&str / String", "Option<u64> / u64")),
]
REPOS = ("acme/billing", "acme/ledger", "shop/orders")


@pytest.mark.parametrize(("shape", "render", "tokens"), PAIRS, ids=[p[0] for p in PAIRS])
def test_failures_of_one_shape_that_differ_only_in_the_cause_token_land_apart_with_titles_naming_it(
    shape, render, tokens
):
    items = [prepare_failure(f"{token}@{repo}", render(repo, token), repo=repo) for token in tokens for repo in REPOS]
    clusters = cluster_failures(items)
    assert _groups(clusters) == sorted(sorted(f"{token}@{repo}" for repo in REPOS) for token in tokens)
    for cluster in clusters:
        token = cluster.members[0].id.split("@")[0]
        shown = "expected `{}`, found `{}`".format(*token.split(" / ")) if shape == "types" else token
        assert shown in cluster.title, (shape, cluster.title)
        assert all(shown in m.deciding_line for m in cluster.members)
        assert "<" not in cluster.title.replace("Option<u64>", ""), cluster.title  # no masks like <path> or <v>
    assert len({c.title for c in clusters}) == len(clusters)


def test_failures_of_one_cause_with_different_wrappers_land_in_one_cluster():
    maven = (
        "[ERROR] Failed to execute goal org.apache.maven.plugins:maven-enforcer-plugin:3.5.0:enforce (enforce) on project "
        "billing:\n[ERROR] Rule 0: org.apache.maven.enforcer.rules.dependency.DependencyConvergence failed with message:\n"
        "[ERROR] Failed while enforcing releasability.\n"
        "[ERROR] Dependency convergence error for com.fasterxml.jackson.core:jackson-databind:jar:2.15.2 paths to dependency are:\n"
        "[ERROR] +-com.acme:billing:1.0.0-SNAPSHOT\n"
    )
    gradle_style = (
        "Dependency convergence error for com.fasterxml.jackson.core:jackson-databind:jar:2.17.0 paths to dependency are:\n"
        "+-com.shop:orders:2.3.1\n  +-io.micrometer:micrometer-core:1.13.4\n"
        "Some Enforcer rules have failed. Look above for specific messages explaining why the rule failed.\n"
    )
    summary = (
        "[ERROR] Errors:\n[ERROR]   LedgerTest.posts_entries:41 » ClassCast class org.slf4j.helpers.NOPLogger cannot be "
        "cast to class ch.qos.logback.classic.Logger\n[ERROR] Tests run: 12, Failures: 0, Errors: 1, Skipped: 0\n"
    )
    trace = (
        "[ERROR] com.acme.vault.VaultTest  Time elapsed: 0.3 s  <<< ERROR!\n"
        "java.lang.ClassCastException: class org.slf4j.helpers.NOPLogger cannot be cast to class "
        "org.simplify4u.slf4jmock.ProxyMock (in unnamed module of loader 'app')\n"
        "\tat com.acme.vault.VaultTest.setUp(VaultTest.java:20)\n"
    )
    items = [
        prepare_failure("c1", maven, repo="acme/billing"),
        prepare_failure("c2", gradle_style, repo="shop/orders"),
        prepare_failure("s1", summary, repo="acme/ledger"),
        prepare_failure("s2", trace, repo="acme/vault"),
    ]
    clusters = cluster_failures(items)
    assert _groups(clusters) == [["c1", "c2"], ["s1", "s2"]]
    titles = {c.members[0].id[0]: c.title for c in clusters}
    assert "com.fasterxml.jackson.core:jackson-databind" in titles["c"]
    assert "Failed to execute goal" not in titles["c"]
    assert "org.slf4j.helpers.NOPLogger" in titles["s"]


def test_a_new_failure_joins_the_cluster_of_its_cause_and_never_one_named_by_another_token():
    items = [prepare_failure(f"{m}@{r}", _pytest_import(r, m), repo=r) for m in ("structlog",) for r in REPOS]
    clusters = cluster_failures(items)
    stored = [
        ClusterExemplars(c.key, c.signature, c.exemplars, c.kind, tuple(c.causes), tuple(c.tokens)) for c in clusters
    ]
    same = prepare_failure("new1", _pytest_import("web/shop", "structlog") + "extra line\n", repo="web/shop")
    other = prepare_failure("new2", _pytest_import("web/admin", "pythonjsonlogger"), repo="web/admin")
    (joined, why, _), (alone, _, _) = assign_failures([same, other], stored)
    assert joined == clusters[0].key and why == "exact"
    assert alone is None
