"""CI state, review decision and pull request state from GitHub payloads and the client's dataclasses."""

from __future__ import annotations

import copy
import json

import pytest

from runs.demo.payloads import payload_path
from runs.github.state import ci_state, pr_state, review_decision
from runs.github.types import (
    check_run_from_payload,
    combined_status_from_payload,
    pull_from_payload,
    review_from_payload,
)

CONTRACTS = payload_path("github")


def load(relative: str):
    path = CONTRACTS / relative
    return json.loads(path.read_text())


def run(status="completed", conclusion=None, name="build"):
    return {"name": name, "status": status, "conclusion": conclusion}


NO_STATUSES = {"state": "pending", "total_count": 0, "statuses": []}


def test_no_ci_at_all_is_blank():
    assert ci_state([], None) == ""
    assert ci_state([], NO_STATUSES) == ""


def test_an_empty_combined_status_does_not_make_actions_only_repos_pending():
    assert ci_state([run(conclusion="success")], NO_STATUSES) == "success"


@pytest.mark.parametrize("status", ["queued", "in_progress", "waiting", "requested", "pending"])
def test_an_unfinished_check_run_is_pending(status):
    assert ci_state([run(conclusion="success", name="lint"), run(status=status)], NO_STATUSES) == "pending"


@pytest.mark.parametrize("conclusion", ["failure", "timed_out", "cancelled", "action_required", "startup_failure"])
def test_a_failing_conclusion_fails_ci(conclusion):
    assert ci_state([run(conclusion="success", name="lint"), run(conclusion=conclusion)]) == "failure"


def test_a_failure_wins_over_checks_still_running():
    assert ci_state([run(status="in_progress", name="slow"), run(conclusion="failure")]) == "failure"


def test_neutral_and_skipped_runs_alone_are_neutral():
    assert ci_state([run(conclusion="neutral"), run(conclusion="skipped", name="docs")]) == "neutral"


def test_skipped_runs_do_not_hide_a_success():
    assert ci_state([run(conclusion="skipped", name="docs"), run(conclusion="success")]) == "success"


@pytest.mark.parametrize(
    ("combined", "expected"), [("failure", "failure"), ("error", "failure"), ("pending", "pending")]
)
def test_commit_statuses_count_when_there_are_some(combined, expected):
    status = {"state": combined, "total_count": 1, "statuses": [{"context": "jenkins", "state": combined}]}
    assert ci_state([run(conclusion="success")], status) == expected


def test_githubs_example_payloads_combine_through_the_dataclasses():
    runs_payload = load("rest/checks.list-for-ref.json")
    status_payload = load("rest/repos.get-combined-status-for-ref.json")
    runs = [check_run_from_payload(item) for item in runs_payload["check_runs"]]
    combined = combined_status_from_payload(status_payload)
    assert combined.total_count == len(status_payload["statuses"])
    # The example holds a neutral check run and successful commit statuses.
    assert [r.conclusion for r in runs] == ["neutral"] and combined.state == "success"
    assert ci_state(runs, combined) == "success"
    assert ci_state(runs, None) == "neutral"


def test_a_later_approval_replaces_the_same_reviewers_change_request():
    reviews = [
        {"user": {"login": "alice"}, "state": "CHANGES_REQUESTED"},
        {"user": {"login": "alice"}, "state": "APPROVED"},
    ]
    assert review_decision(reviews) == "approved"


def test_one_reviewer_requesting_changes_blocks_another_ones_approval():
    reviews = [
        {"user": {"login": "alice"}, "state": "APPROVED"},
        {"user": {"login": "bob"}, "state": "CHANGES_REQUESTED"},
    ]
    assert review_decision(reviews) == "changes_requested"


def test_a_comment_after_an_approval_keeps_the_approval():
    reviews = [
        {"user": {"login": "alice"}, "state": "APPROVED"},
        {"user": {"login": "alice"}, "state": "COMMENTED"},
    ]
    assert review_decision(reviews) == "approved"


def test_only_comments_is_commented_and_no_reviews_is_blank():
    assert review_decision([{"user": {"login": "bob"}, "state": "COMMENTED"}]) == "commented"
    assert review_decision([]) == ""


def test_a_dismissed_approval_means_a_review_is_required_again():
    reviews = [{"user": {"login": "alice"}, "state": "APPROVED"}, {"user": {"login": "alice"}, "state": "DISMISSED"}]
    assert review_decision(reviews) == "review_required"


def test_a_required_review_with_no_decision_is_review_required():
    assert review_decision([], required=True) == "review_required"
    assert review_decision([{"user": {"login": "bob"}, "state": "COMMENTED"}], required=True) == "review_required"


def test_webhook_lower_case_states_are_accepted():
    assert review_decision([{"user": {"login": "alice"}, "state": "approved"}]) == "approved"


def test_reviews_are_taken_in_submission_order():
    reviews = [
        {"user": {"login": "alice"}, "state": "APPROVED", "submitted_at": "2024-01-02T00:00:00Z"},
        {"user": {"login": "alice"}, "state": "CHANGES_REQUESTED", "submitted_at": "2024-01-01T00:00:00Z"},
    ]
    assert review_decision(reviews) == "approved"


def test_githubs_example_review_parses_to_an_approval():
    reviews = [review_from_payload(item) for item in load("rest/pulls.list-reviews.json")]
    assert review_decision(reviews) == "approved"


def test_a_pull_request_with_merged_at_is_merged_even_when_merged_is_false():
    payload = load("rest/pulls.get.json")
    assert payload["merged"] is False and payload["merged_at"]
    assert pr_state(payload) == "merged"
    assert pull_from_payload(payload).state == "merged"


def test_open_and_closed_pull_requests_keep_githubs_state():
    payload = copy.deepcopy(load("rest/pulls.get.json"))
    payload.update({"merged": False, "merged_at": None, "state": "closed"})
    assert pr_state(payload) == "closed"
    payload["state"] = "open"
    assert pr_state(payload) == "open"


def test_a_list_item_without_merged_uses_merged_at():
    item = copy.deepcopy(load("rest/pulls.list.json")[0])
    assert "merged" not in item
    item["merged_at"] = None
    item["state"] = "closed"
    assert pr_state(item) == "closed"
    item["merged_at"] = "2024-01-01T00:00:00Z"
    assert pr_state(item) == "merged"


def test_a_webhook_payload_is_read_through_its_pull_request():
    payload = load("webhooks/pull_request.closed.unmerged.json")
    assert pr_state(payload) == "closed"
