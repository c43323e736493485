"""The demo fleet: a deterministic plan, written as MLflow traces that follow the trace convention."""

import json
import random
import re
from collections import Counter
from io import StringIO
from pathlib import Path

import mlflow
import pytest
import yaml
from django.core.management import call_command
from mlflow import MlflowClient

from runs.demo.failures import CAUSES_BY_KEY, FAILURE_CAUSES
from runs.demo.fleet import DAY_MS, TEAMS, fleet_plan, simulate_attempt
from runs.demo.migrations import MIGRATIONS
from runs.demo.writer import experiment_name, fleet_exists, fleet_wipe, fleet_write

ANCHOR_MS = 1_760_000_400_000
REQUIRED_TAGS = ("fleet.migration", "fleet.repo", "fleet.attempt", "fleet.phase")
VERIFY_NAMES = ("verify", "tool_mcp__fleet__verify", "tool_Bash")


def test_the_same_seed_gives_the_same_plan_and_another_seed_a_different_one():
    first = fleet_plan(seed=11, repo_count=60, anchor_ms=ANCHOR_MS)
    again = fleet_plan(seed=11, repo_count=60, anchor_ms=ANCHOR_MS)
    other = fleet_plan(seed=12, repo_count=60, anchor_ms=ANCHOR_MS)

    assert [a.plan_key() for a in first.attempts] == [a.plan_key() for a in again.attempts]
    assert [r.full_name for r in first.repos] == [r.full_name for r in again.repos]
    assert [a.plan_key() for a in first.attempts] != [a.plan_key() for a in other.attempts]


def test_the_default_plan_has_the_breadth_of_a_real_fleet():
    fleet = fleet_plan(seed=7, repo_count=320, anchor_ms=ANCHOR_MS)
    attempted = {a.repo.full_name for a in fleet.attempts}
    migration_attempts = [a for a in fleet.attempts if a.phase == "migration" and not a.damage]
    baselines = [a for a in fleet.attempts if a.phase == "baseline"]

    assert len(attempted) >= 300
    assert len({r.team for r in fleet.repos}) >= 12
    assert {r.build for r in fleet.repos} == {"maven", "gradle", "npm", "pytest", "go", "cargo"}
    assert len(fleet.migrations) >= 3 and all(len(m.prompts) >= 2 for m in fleet.migrations)
    assert len({a.failure_cause for a in fleet.attempts if a.failure_cause}) >= 12
    baseline_failures = sum(not a.verify_calls[-1].passed for a in baselines) / len(baselines)
    assert 0.03 <= baseline_failures <= 0.10
    outcomes = Counter(a.outcome for a in migration_attempts)
    assert outcomes["succeeded"] > len(migration_attempts) / 2
    assert {"verify_failed", "judge_rejected", "agent_error", "no_change"} <= set(outcomes)
    assert max(a.number for a in migration_attempts) >= 3
    assert all(a.started_at_ms >= ANCHOR_MS - 15 * DAY_MS for a in fleet.attempts)


def test_retries_run_with_later_prompt_revisions_and_some_end_differently():
    fleet = fleet_plan(seed=7, repo_count=320, anchor_ms=ANCHOR_MS)
    by_target: dict[tuple[str, str], list] = {}
    for attempt in fleet.attempts:
        if attempt.phase == "migration" and not attempt.damage:
            by_target.setdefault((attempt.migration.slug, attempt.repo.full_name), []).append(attempt)
    retried = [attempts for attempts in by_target.values() if len(attempts) > 1]

    assert any(attempts[-1].prompt_rev > attempts[0].prompt_rev for attempts in retried)
    assert any(attempts[-1].outcome == "succeeded" for attempts in retried)
    assert any(attempts[-1].outcome != "succeeded" for attempts in retried)
    assert any(
        attempts[-1].failure_cause
        and attempts[0].failure_cause
        and attempts[-1].failure_cause != attempts[0].failure_cause
        for attempts in retried
    )


def test_a_prompt_that_mentions_the_fix_makes_that_failure_rarer():
    migration = next(m for m in MIGRATIONS if m.slug == "log4j2-upgrade")
    cause = CAUSES_BY_KEY["maven-dependency-convergence"]
    fleet = fleet_plan(seed=3, repo_count=320, anchor_ms=ANCHOR_MS)
    maven = [r for r in fleet.repos if r.build == "maven"]
    assert not any(k in migration.prompt(1).lower() for k in cause.fix_keywords)
    assert any(k in migration.prompt(2).lower() for k in cause.fix_keywords)

    def failures(rev: int) -> int:
        rng = random.Random(5)
        count = 0
        for _ in range(4):
            for repo in maven:
                attempt = simulate_attempt(
                    repo=repo, migration=migration, prompt_text=migration.prompt(rev), attempt=1, rng=rng
                )
                count += attempt.failure_cause == cause.key
        return count

    before, after = failures(1), failures(2)
    assert before >= 10
    assert after < before / 2


def test_every_failure_cause_renders_a_long_log_that_differs_per_repository():
    fleet = fleet_plan(seed=7, repo_count=80, anchor_ms=ANCHOR_MS)
    assert len(FAILURE_CAUSES) >= 12
    lengths = []
    for cause in FAILURE_CAUSES:
        repos = list({r.name: r for r in fleet.repos if r.build == cause.build}.values())[:2]
        logs = [cause.render(random.Random(1), repo) for repo in repos]
        assert len(set(logs)) == len(logs) == 2, cause.key
        lengths += [log.count("\n") for log in logs]
    assert sorted(lengths)[len(lengths) // 2] >= 100


@pytest.fixture(scope="module")
def seeded(tmp_path_factory):
    folder = tmp_path_factory.mktemp("demo")
    uri = f"sqlite:///{folder / 'mlflow.db'}"
    previous = mlflow.get_tracking_uri()
    out = StringIO()
    call_command(
        "seed_demo",
        "--repos",
        "30",
        "--seed",
        "7",
        "--tracking-uri",
        uri,
        "--catalog-dir",
        str(folder / "catalog"),
        stdout=out,
    )
    client = MlflowClient(tracking_uri=uri)
    traces = []
    for migration in MIGRATIONS:
        experiment = client.get_experiment_by_name(experiment_name(migration.slug))
        traces += client.search_traces(locations=[experiment.experiment_id], max_results=5000)
    yield {"uri": uri, "folder": folder, "traces": traces, "client": client, "output": out.getvalue()}
    mlflow.set_tracking_uri(previous)


def _verify_payloads(trace) -> list[tuple[str, object]]:
    return [(span.name, span.outputs) for span in trace.data.spans if span.name in VERIFY_NAMES]


def test_every_migration_trace_carries_the_required_tags(seeded):
    tagged = [t for t in seeded["traces"] if "fleet.migration" in t.info.tags]
    with_repo = [t for t in tagged if "fleet.repo" in t.info.tags]

    assert len(with_repo) > 100
    for trace in with_repo:
        tags = trace.info.tags
        assert all(tag in tags for tag in REQUIRED_TAGS)
        assert tags["fleet.phase"] in ("baseline", "migration")
        assert tags["fleet.attempt"].isdigit()
        if tags["fleet.phase"] == "migration":
            assert tags["fleet.prompt_rev"].isdigit()
            root = next(span for span in trace.data.spans if span.parent_id is None)
            assert root.inputs["prompt"]
        if "fleet.pr_url" in tags:
            assert re.fullmatch(rf"https://github\.com/{re.escape(tags['fleet.repo'])}/pull/\d+", tags["fleet.pr_url"])
    assert len(tagged) - len(with_repo) == 1
    assert sum(not any(key.startswith("fleet.") for key in t.info.tags) for t in seeded["traces"]) == 1


def test_verifier_calls_use_every_shape_and_parse_as_the_convention_says(seeded):
    shapes, broken, failed_text = Counter(), 0, []
    for trace in seeded["traces"]:
        for name, outputs in _verify_payloads(trace):
            shapes[name] += 1
            if name == "verify" and isinstance(outputs, str):
                broken += 1
                with pytest.raises(json.JSONDecodeError):
                    json.loads(outputs)
                continue
            if name == "tool_mcp__fleet__verify":
                payload = json.loads("".join(block["text"] for block in outputs["result"]))
            elif name == "tool_Bash":
                assert set(outputs) == {"stdout", "stderr", "exit_code"}
                payload = {"passed": outputs["exit_code"] == 0, "output": outputs["stdout"] + outputs["stderr"]}
            else:
                payload = outputs
            assert isinstance(payload["passed"], bool) and payload["output"]
            if not payload["passed"]:
                failed_text.append(payload["output"])

    assert all(shapes[name] > 0 for name in VERIFY_NAMES)
    assert broken == 1
    assert any("BUILD FAILURE" in text or "npm error" in text or "FAILED" in text for text in failed_text)


def test_sessions_have_llm_calls_with_token_usage_and_judges_that_reject(seeded):
    migration_traces = [t for t in seeded["traces"] if t.info.tags.get("fleet.phase") == "migration"]
    verdicts = Counter()
    for trace in migration_traces:
        llm = [s for s in trace.data.spans if s.span_type == "CHAT_MODEL"]
        assert 3 <= len(llm) <= 12
        usage = llm[0].get_attribute("mlflow.chat.tokenUsage")
        assert usage["total_tokens"] == usage["input_tokens"] + usage["output_tokens"]
        assert trace.info.token_usage["input_tokens"] >= usage["input_tokens"]
        for span in trace.data.spans:
            if span.name == "judge":
                verdicts[span.outputs["verdict"]] += 1
    assessments = [a for t in migration_traces for a in (t.info.assessments or []) if a.name == "judge"]

    assert verdicts["approve"] > 0 and verdicts["reject"] + verdicts["veto"] > 0
    assert assessments and all(a.source.source_type == "LLM_JUDGE" for a in assessments)


def test_agent_errors_and_no_change_outcomes_are_recorded(seeded):
    traces = seeded["traces"]
    errored = [t for t in traces if t.info.state.value == "ERROR" or t.info.tags.get("fleet.outcome") == "agent_error"]
    no_change = [t for t in traces if t.info.tags.get("fleet.outcome") == "no_change"]

    assert errored and no_change
    start_times = sorted(t.info.request_time for t in traces)
    assert start_times[-1] - start_times[0] > 3 * DAY_MS


def test_seeding_again_without_force_leaves_the_fleet_alone(seeded):
    out = StringIO()
    call_command(
        "seed_demo",
        "--repos",
        "30",
        "--tracking-uri",
        seeded["uri"],
        "--catalog-dir",
        str(seeded["folder"] / "catalog"),
        stdout=out,
    )

    assert "already exists" in out.getvalue()
    client = seeded["client"]
    experiment = client.get_experiment_by_name(experiment_name(MIGRATIONS[0].slug))
    again = client.search_traces(locations=[experiment.experiment_id], max_results=5000)
    assert len(again) == sum(t.info.experiment_id == experiment.experiment_id for t in seeded["traces"])


def test_wiping_the_demo_deletes_its_traces(tmp_path):
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    previous = mlflow.get_tracking_uri()
    fleet = fleet_plan(seed=7, repo_count=30, anchor_ms=ANCHOR_MS)
    fleet.attempts = [next(a for a in fleet.attempts if a.migration.slug == m.slug) for m in fleet.migrations]
    try:
        summary = fleet_write(fleet, tracking_uri=uri)
        slugs = [m.slug for m in fleet.migrations]
        assert fleet_exists(tracking_uri=uri, migration_slugs=slugs)
        assert fleet_wipe(tracking_uri=uri, migration_slugs=slugs) == summary.traces
        assert not fleet_exists(tracking_uri=uri, migration_slugs=slugs)
    finally:
        mlflow.set_tracking_uri(previous)


def test_ownership_files_parse_and_disagree_where_they_should(seeded):
    folder = Path(seeded["folder"]) / "catalog"
    documents = [
        doc for path in sorted((folder / "catalog").glob("*.yaml")) for doc in yaml.safe_load_all(path.read_text())
    ]
    groups = {d["metadata"]["name"]: d for d in documents if d["kind"] == "Group"}
    components = [d for d in documents if d["kind"] == "Component"]
    channels = json.loads((folder / "slack-channels.json").read_text())

    assert len(groups) == len(TEAMS) and all(g["spec"]["profile"]["displayName"] for g in groups.values())
    assert any("slack.com/bot-notify" in g["metadata"]["annotations"] for g in groups.values())
    catalog_owner = {}
    for component in components:
        slug = component["metadata"]["annotations"]["github.com/project-slug"]
        assert component["spec"]["owner"].removeprefix("group:default/") in groups
        catalog_owner[slug] = component["spec"]["owner"].removeprefix("group:default/")
    codeowners = {p.name.replace("__", "/"): p.read_text() for p in (folder / "codeowners").iterdir()}
    assert codeowners and all(re.search(r"^\* @acme/[a-z-]+$", text, re.M) for text in codeowners.values())
    repos = {a.repo.full_name for a in fleet_plan(seed=7, repo_count=30, anchor_ms=ANCHOR_MS).attempts}
    assert repos - set(catalog_owner) - set(codeowners), "some repositories have no owner anywhere"
    codeowners_team = {
        repo: re.search(r"^\* @acme/([a-z-]+)$", text, re.M).group(1) for repo, text in codeowners.items()
    }
    assert any(catalog_owner.get(repo, team) != team for repo, team in codeowners_team.items())
    assert all(set(c) == {"id", "name", "is_private", "is_archived"} for c in channels)
    names = " ".join(c["name"] for c in channels)
    assert any(slug not in names and slug.split("-")[0] not in names for slug in groups)


def test_a_fleet_with_traces_in_only_one_experiment_counts_as_existing(tmp_path):
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    previous = mlflow.get_tracking_uri()
    fleet = fleet_plan(seed=7, repo_count=10, anchor_ms=ANCHOR_MS)
    fleet.attempts = fleet.attempts[:1]
    slugs = [m.slug for m in fleet.migrations]
    try:
        assert not fleet_exists(tracking_uri=uri, migration_slugs=slugs)
        fleet_write(fleet, tracking_uri=uri)
        assert fleet_exists(tracking_uri=uri, migration_slugs=slugs)
    finally:
        mlflow.set_tracking_uri(previous)
