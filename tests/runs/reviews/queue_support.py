"""Helpers for the review queue's tests: users per role and agent pull requests awaiting review."""

from datetime import timedelta

from django.utils import timezone

from tests.factories import (
    make_attempt,
    make_judge,
    make_migration,
    make_pull_request,
    make_repo,
    make_user,
    make_verifier_result,
)

HTMX = {"HTTP_HX_REQUEST": "true"}


def login(client, role):
    user = make_user(role=role)
    client.force_login(user)
    return user


def queued_pr(repo: str, number: int, *, migration=None, team=None, days_ago: float = 1, fake=None, **fields):
    """A draft pull request from an attempt whose verifiers and judge passed, finished `days_ago` days ago."""
    migration = migration or make_migration("java-21")
    ended = timezone.now() - timedelta(days=days_ago)
    attempt = make_attempt(
        migration,
        make_repo(repo, team=team),
        outcome="succeeded",
        started_at=ended - timedelta(minutes=10),
        ended_at=ended,
    )
    make_verifier_result(attempt, passed=True, kind="maven")
    make_judge(attempt, verdict="approve", rationale=f"Looks complete for {repo}.")
    if fake is not None:
        owner, name = repo.split("/")
        fake.add_pull(owner, name, number, draft=True)
    return make_pull_request(attempt, number=number, draft=fields.pop("draft", True), **fields)
