"""Clustering groups same-cause failures across repositories and keeps causes apart."""

import json
from dataclasses import asdict

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
