"""The demo fleet holds every failure layer, as the product's own rules read its verifier logs."""

import random
from collections import Counter

import pytest

from runs.demo.buildlogs_js_native import render_no_tests
from runs.demo.entities import DemoRepo
from runs.demo.fleet import fleet_plan, has_no_tests
from runs.fleet.layers import INFRASTRUCTURE, UNVERIFIABLE, attempt_layer

ANCHOR_MS = 1_760_000_400_000
BUILDS = ("maven", "gradle", "npm", "pytest", "go", "cargo")


@pytest.mark.parametrize("build", BUILDS)
def test_a_build_that_ran_no_test_reads_as_unverifiable_on_every_build_system(build):
    repo = DemoRepo(owner="acme", name="ledger-api", team="payments", build=build, language="")
    call = type("Call", (), {"kind": build, "passed": True, "output": render_no_tests(random.Random(3), repo)})

    assert attempt_layer(outcome="succeeded", verifiers=[call]) == UNVERIFIABLE


def test_the_demo_plan_has_infrastructure_failures_and_passes_that_verified_nothing():
    fleet = fleet_plan(seed=7, repo_count=320, anchor_ms=ANCHOR_MS)
    layers = Counter(
        attempt_layer(outcome=attempt.outcome, verifiers=attempt.verify_calls)
        for attempt in fleet.attempts
        if attempt.phase == "migration" and not attempt.damage
    )

    assert layers[INFRASTRUCTURE] >= 10
    assert layers[UNVERIFIABLE] >= 10
    no_tests = {repo.full_name for repo in fleet.repos if has_no_tests(repo)}
    assert 0 < len(no_tests) < len(fleet.repos) // 5, "a few repositories run no test, not most"
