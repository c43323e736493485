"""The pure canary rules: its size, which repositories it takes and its verdict."""

import pytest

from runs.reruns.canary_rules import CanaryResult, CanarySpec, canary_choose, canary_size_for, canary_verdict


def spec(size=None, fraction=None) -> CanarySpec:
    return CanarySpec(size=size, fraction=fraction, min_fixed=0.5, max_new_cluster_share=0.3)


@pytest.mark.parametrize(
    "total, size, fraction, expected",
    [
        (10, 3, None, 3),
        (10, 30, None, 10),
        (10, None, 0.3, 3),
        (10, None, 0.25, 3),
        (3, None, 0.01, 1),
        (7, None, 1, 7),
    ],
)
def test_the_canary_size_rounds_up_and_stays_within_the_selection(total, size, fraction, expected):
    assert canary_size_for(total, spec(size, fraction)) == expected


def test_the_choice_depends_on_the_names_not_their_order_and_spreads_over_clusters():
    big = [(f"acme/a-{i}", 1) for i in range(6)]
    small = [(f"acme/b-{i}", 2) for i in range(3)]
    unclustered = [("acme/c-0", None)]
    candidates = big + small + unclustered
    chosen = canary_choose(candidates, 5)
    assert chosen == canary_choose(list(reversed(candidates)), 5)
    clusters = [dict(candidates)[name] for name in chosen]
    # 5 of 10: 3 from the cluster of 6, 2 from the one of 3 (largest remainders), none left for the lone one.
    assert clusters.count(1) == 3 and clusters.count(2) == 2
    assert len(canary_choose(candidates, 50)) == 10


def results(fixed=0, same=0, new=None, cancelled=0):
    rows = [CanaryResult("fixed", 1, None)] * fixed + [CanaryResult("still_failing", 1, 1)] * same
    for cluster, n in (new or {}).items():
        rows += [CanaryResult("new_failure", 1, cluster)] * n
    return rows + [CanaryResult("cancelled", 1, None)] * cancelled


def test_the_verdict_expands_at_exactly_the_minimum_and_pauses_below_it():
    assert canary_verdict(results(fixed=6, same=4), min_fixed=0.6, max_new_cluster_share=0.3).expand
    paused = canary_verdict(results(fixed=3, same=7), min_fixed=0.6, max_new_cluster_share=0.3)
    assert not paused.expand and paused.reason == "3 of 10 fixed, below 60%"


def test_one_new_cluster_above_its_share_pauses_and_is_named():
    verdict = canary_verdict(
        results(fixed=6, new={7: 4}), min_fixed=0.5, max_new_cluster_share=0.3, titles={7: "undeclared crate"}
    )
    assert not verdict.expand and verdict.reason == "4 of 10 landed in new cluster 'undeclared crate'"
    # Spread over two new clusters, no single one holds more than 30%.
    assert canary_verdict(results(fixed=6, new={7: 2, 8: 2}), min_fixed=0.5, max_new_cluster_share=0.3).expand


def test_a_cluster_the_canary_was_in_before_is_not_new_and_cancelled_items_do_not_count():
    assert canary_verdict(results(fixed=5, same=5), min_fixed=0.5, max_new_cluster_share=0.0).expand
    verdict = canary_verdict(results(fixed=2, same=2, cancelled=6), min_fixed=0.5, max_new_cluster_share=0.3)
    assert verdict.expand and verdict.ran == 4
    nothing = canary_verdict(results(cancelled=3), min_fixed=0.0, max_new_cluster_share=1.0)
    assert not nothing.expand and "cancelled" in nothing.reason


def test_both_reasons_are_given_when_both_rules_fail():
    verdict = canary_verdict(results(fixed=1, new={9: 9}), min_fixed=0.5, max_new_cluster_share=0.3)
    assert verdict.reason == "1 of 10 fixed, below 50%; 9 of 10 landed in new cluster 'cluster 9'"
