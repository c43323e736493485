"""Webhook signatures and parsing, checked against GitHub's documented test vector and example deliveries."""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import hmac
import json

import pytest

from runs.demo.payloads import payload_path
from runs.github.payloads import (
    CheckEvent,
    InvalidSignature,
    PullRequestEvent,
    PullRequestReviewEvent,
    parse_delivery,
    parse_event,
    verify_signature,
)
from runs.github.state import review_decision

WEBHOOKS = payload_path("github/webhooks")


def load(name: str) -> dict:
    path = WEBHOOKS / name
    return json.loads(path.read_text())


def contract_deliveries() -> list[str]:
    return sorted(path.name for path in WEBHOOKS.glob("*.json") if not path.name.startswith("_"))


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def test_githubs_documented_test_vector_verifies():
    vector = load("_signature-test-vector.json")
    body = vector["payload"].encode()
    assert verify_signature(vector["secret"], body, vector["X-Hub-Signature-256"])
    assert verify_signature(vector["secret"].encode(), body, vector["X-Hub-Signature-256"])


def test_a_signature_from_another_secret_fails():
    vector = load("_signature-test-vector.json")
    assert not verify_signature("not the secret", vector["payload"].encode(), vector["X-Hub-Signature-256"])


def test_a_tampered_body_fails():
    vector = load("_signature-test-vector.json")
    assert not verify_signature(vector["secret"], b"Hello, World?", vector["X-Hub-Signature-256"])


@pytest.mark.parametrize("header", [None, "", "sha256=", "sha1=757107ea0eb2509fc211221cce984b8a37570b6d", "garbage"])
def test_a_missing_or_malformed_header_fails(header):
    vector = load("_signature-test-vector.json")
    assert not verify_signature(vector["secret"], vector["payload"].encode(), header)


def test_an_empty_secret_never_verifies():
    body = b"{}"
    assert not verify_signature("", body, sign("", body))


def test_the_truncated_signature_in_githubs_header_example_is_rejected():
    headers = load("_delivery-headers.openapi-example.json")
    assert not verify_signature("any secret", b"{}", headers["X-Hub-Signature-256"])


@pytest.mark.parametrize("name", contract_deliveries())
def test_each_contract_delivery_parses(name):
    payload = load(name)
    event = name.split(".")[0]
    parsed = parse_event(event, payload, delivery_id="d-1")
    assert parsed is not None
    assert parsed.event == event and parsed.action == payload["action"] and parsed.delivery_id == "d-1"
    assert f"{parsed.owner}/{parsed.repo}" == payload["repository"]["full_name"]
    if event == "pull_request":
        assert isinstance(parsed, PullRequestEvent)
        assert parsed.number == payload["pull_request"]["number"]
        assert parsed.head_sha == payload["pull_request"]["head"]["sha"]
        assert parsed.draft == payload["pull_request"]["draft"]
        assert parsed.html_url == payload["pull_request"]["html_url"]
    elif event == "pull_request_review":
        assert isinstance(parsed, PullRequestReviewEvent)
        assert parsed.state == payload["review"]["state"].upper()
        assert parsed.reviewer == payload["review"]["user"]["login"]
        assert parsed.number == payload["pull_request"]["number"]
    else:
        assert isinstance(parsed, CheckEvent)
        assert parsed.head_sha == payload[event]["head_sha"]
        assert [ref.number for ref in parsed.pull_requests] == [pr["number"] for pr in payload[event]["pull_requests"]]


def test_a_closed_unmerged_pull_request_is_closed():
    parsed = parse_event("pull_request", load("pull_request.closed.unmerged.json"))
    assert parsed.state == "closed" and parsed.merged is False


def test_a_closed_merged_pull_request_is_merged():
    payload = copy.deepcopy(load("pull_request.closed.unmerged.json"))
    payload["pull_request"]["merged"] = True
    payload["pull_request"]["merged_at"] = "2024-05-01T10:00:00Z"
    parsed = parse_event("pull_request", payload)
    assert parsed.state == "merged" and parsed.merged is True
    assert parsed.merged_at is not None and parsed.merged_at.year == 2024


def test_draft_transitions_carry_the_new_draft_flag():
    to_draft = parse_event("pull_request", load("pull_request.converted_to_draft.octokit.json"))
    ready = parse_event("pull_request", load("pull_request.ready_for_review.octokit.json"))
    assert to_draft.action == "converted_to_draft" and to_draft.draft is True
    assert ready.action == "ready_for_review" and ready.draft is False


def test_mergeable_stays_unknown_when_the_delivery_has_not_computed_it():
    parsed = parse_event("pull_request", load("pull_request.opened.json"))
    assert parsed.mergeable is None


def test_a_lower_case_webhook_review_state_feeds_the_review_decision():
    parsed = parse_event("pull_request_review", load("pull_request_review.submitted.json"))
    assert parsed.state == "COMMENTED"
    assert review_decision([{"user": parsed.reviewer, "state": "changes_requested"}, parsed]) == "changes_requested"
    # The same reviewer approving later replaces their change request.
    approved = dataclasses.replace(parsed, state="APPROVED")
    assert review_decision([{"user": parsed.reviewer, "state": "changes_requested"}, approved]) == "approved"


def test_a_check_run_names_the_web_urls_of_its_pull_requests():
    payload = load("check_run.completed.json")
    parsed = parse_event("check_run", payload)
    assert parsed.conclusion == payload["check_run"]["conclusion"]
    repo_url = payload["repository"]["html_url"]
    assert [ref.html_url for ref in parsed.pull_requests] == [
        f"{repo_url}/pull/{pr['number']}" for pr in payload["check_run"]["pull_requests"]
    ]


def test_a_check_run_without_its_own_pull_requests_falls_back_to_its_suites():
    payload = copy.deepcopy(load("check_run.completed.json"))
    payload["check_run"]["pull_requests"] = []
    parsed = parse_event("check_run", payload)
    assert [ref.number for ref in parsed.pull_requests] == [
        pr["number"] for pr in payload["check_run"]["check_suite"]["pull_requests"]
    ]


def test_unknown_events_and_actions_are_ignored():
    payload = load("pull_request.opened.json")
    assert parse_event("issues", payload) is None
    assert parse_event("pull_request", {**payload, "action": "labeled"}) is None
    assert parse_event("ping", {"zen": "Keep it logically awesome."}) is None


def test_a_signed_delivery_parses_from_raw_headers_and_body():
    body = json.dumps(load("pull_request.opened.json")).encode()
    headers = {
        "X-GitHub-Event": "pull_request",
        "X-GitHub-Delivery": "72d3162e",
        "X-Hub-Signature-256": sign("s3", body),
    }
    parsed = parse_delivery(secret="s3", headers=headers, body=body)
    assert isinstance(parsed, PullRequestEvent) and parsed.delivery_id == "72d3162e"


def test_a_delivery_with_a_bad_signature_is_refused():
    body = json.dumps(load("pull_request.opened.json")).encode()
    headers = {"X-GitHub-Event": "pull_request", "X-Hub-Signature-256": sign("other", body)}
    with pytest.raises(InvalidSignature):
        parse_delivery(secret="s3", headers=headers, body=body)
    with pytest.raises(InvalidSignature):
        parse_delivery(secret="s3", headers={"X-GitHub-Event": "pull_request"}, body=body)


def test_a_signed_delivery_that_is_not_json_is_a_value_error():
    body = b"not json"
    with pytest.raises(ValueError):
        parse_delivery(
            secret="s3", headers={"x-github-event": "ping", "x-hub-signature-256": sign("s3", body)}, body=body
        )
