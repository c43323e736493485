"""Small factory functions for the data model; attempts keep their Target row in step."""

import itertools
from datetime import timedelta

from django.contrib.auth.models import Group
from django.utils import timezone

from runs.accounts.services import api_token_create, user_with_role_create
from runs.fleet.models import (
    FAILED_OUTCOMES,
    Attempt,
    JudgeVerdict,
    Layer,
    Migration,
    Outcome,
    Phase,
    PromptRevision,
    PullRequest,
    Repository,
    RepositoryState,
    Target,
    Team,
    VerifierResult,
)
from runs.imports.models import ImportRun, ImportRunError

_seq = itertools.count(1)


def make_team(slug: str | None = None, name: str = "") -> Team:
    slug = slug or f"team-{next(_seq)}"
    team, _ = Team.objects.get_or_create(slug=slug, defaults={"name": name or slug})
    return team


def make_migration(slug: str | None = None, title: str = "", **fields) -> Migration:
    slug = slug or f"migration-{next(_seq)}"
    migration, _ = Migration.objects.get_or_create(slug=slug, defaults={"title": title or slug, **fields})
    return migration


def make_repo(full_name: str | None = None, team: Team | None = None) -> Repository:
    full_name = full_name or f"org/repo-{next(_seq)}"
    repo, _ = Repository.objects.get_or_create(full_name=full_name, defaults={"team": team})
    return repo


def make_prompt_revision(migration: Migration, number: int = 1, text: str = "Do the migration.") -> PromptRevision:
    revision, _ = PromptRevision.objects.get_or_create(
        migration=migration, number=number, defaults={"text": text, "text_hash": PromptRevision.hash_text(text)}
    )
    return revision


def make_attempt(
    migration: Migration | None = None,
    repo: Repository | None = None,
    *,
    outcome: str = Outcome.VERIFY_FAILED,
    phase: str = Phase.MIGRATION,
    number: int | None = None,
    trace_id: str | None = None,
    **fields,
) -> Attempt:
    """Create an attempt and update the repository's Target the way an import would."""
    migration = migration or make_migration()
    repo = repo or make_repo()
    if number is None:
        number = Attempt.objects.filter(migration=migration, repository=repo, phase=phase).count() + 1
    started = fields.pop("started_at", None) or timezone.now() - timedelta(minutes=30)
    attempt = Attempt.objects.create(
        trace_id=trace_id or f"tr-{next(_seq):08x}",
        experiment_id=fields.pop("experiment_id", "1"),
        migration=migration,
        repository=repo,
        number=number,
        phase=phase,
        outcome=outcome,
        started_at=started,
        ended_at=fields.pop("ended_at", None) or started + timedelta(minutes=12),
        **fields,
    )
    target, _ = Target.objects.get_or_create(migration=migration, repository=repo)
    if phase == Phase.BASELINE:
        target.baseline_attempt = attempt
        target.pre_existing_failure = outcome in FAILED_OUTCOMES
    else:
        latest = target.latest_attempt
        if latest is None or latest.number <= number:
            target.latest_attempt = attempt
            # As an import does: a pass that verified nothing leaves its repository unverified.
            unverified = outcome == Outcome.SUCCEEDED and attempt.layer == Layer.UNVERIFIABLE
            target.state = RepositoryState.UNVERIFIED if unverified else RepositoryState(outcome)
        target.attempts_count = Attempt.objects.filter(
            migration=migration, repository=repo, phase=Phase.MIGRATION
        ).count()
    target.last_activity_at = attempt.ended_at
    target.save()
    return attempt


def make_verifier_result(
    attempt: Attempt, *, passed: bool = False, kind: str = "maven", snippet: str = "", output: str = "", **fields
) -> VerifierResult:
    position = fields.pop("position", None) or attempt.verifier_results.count() + 1
    output = output or snippet
    return VerifierResult.objects.create(
        attempt=attempt,
        position=position,
        kind=kind,
        passed=passed,
        snippet=snippet,
        output=output,
        output_size=fields.pop("output_size", len(output.encode("utf-8"))),
        exit_code=fields.pop("exit_code", 0 if passed else 1),
        **fields,
    )


def make_judge(attempt: Attempt, verdict: str = "reject", rationale: str = "The change is incomplete.") -> JudgeVerdict:
    return JudgeVerdict.objects.create(attempt=attempt, verdict=verdict, rationale=rationale)


def make_pull_request(attempt: Attempt, **fields) -> PullRequest:
    number = fields.pop("number", next(_seq))
    return PullRequest.objects.create(
        url=fields.pop("url", f"https://github.com/{attempt.repository.full_name}/pull/{number}"),
        repository=attempt.repository,
        migration=attempt.migration,
        attempt=attempt,
        attempt_ready=fields.pop("attempt_ready", PullRequest.ready(attempt)),
        number=number,
        state=fields.pop("state", PullRequest.State.OPEN),
        updated_at=fields.pop("updated_at", timezone.now()),
        **fields,
    )


def make_import_run(*, errors: int = 0, **fields) -> ImportRun:
    status = fields.pop("status", ImportRun.Status.SUCCEEDED)
    now = timezone.now()
    run = ImportRun.objects.create(
        status=status,
        started_at=fields.pop("started_at", now - timedelta(seconds=30)),
        finished_at=fields.pop("finished_at", now if status in ("succeeded", "failed") else None),
        errors=errors,
        **fields,
    )
    ImportRunError.objects.bulk_create(
        ImportRunError(run=run, trace_id=f"tr-bad-{i}", reason=f"span tree missing root #{i}") for i in range(errors)
    )
    return run


def make_user(username: str | None = None, *, role: str | None = None, password: str = "s3cret-pass", **fields):
    """A user, optionally in one role group (the groups come from the roles data migration)."""
    username = username or f"user-{next(_seq)}"
    if role:
        Group.objects.get(name=role)  # the roles data migration made every role's group
    return user_with_role_create(username=username, role=role, password=password, **fields)


def make_api_token(user, name: str = "test") -> str:
    """Create a token for the user and return the clear key (only its hash is stored)."""
    return api_token_create(user=user, name=name)


# Failure texts of distinct causes, stored as failed attempts (for the clustering tests).
FAILURE_CAUSES = {
    "symbol": (
        "[ERROR] /home/ci/{repo}/src/main/java/com/acme/Service{n}.java:[{n},7] cannot find symbol\n"
        "[ERROR]   symbol:   class JsonParser\n"
        "[ERROR]   location: package com.fasterxml.jackson.core"
    ),
    "assert": (
        "[ERROR] com.acme.ApiTest.shouldReturnOk  Time elapsed: 0.{n} s  <<< FAILURE!\n"
        "org.opentest4j.AssertionFailedError: expected: <200> but was: <404>\n"
        "\tat com.acme.ApiTest.shouldReturnOk(ApiTest.java:{n})"
    ),
    "crate": (
        "error[E0433]: failed to resolve: use of undeclared crate or module `tokio`\n"
        " --> src/main.rs:{n}:5\n"
        "error: could not compile `{repo}` due to previous error"
    ),
    "npm": (
        "npm ERR! code ERESOLVE\n"
        "npm ERR! ERESOLVE unable to resolve dependency tree\n"
        'npm ERR! peer react@"^17.0.0" from react-dom@17.0.{n}'
    ),
}


def make_failed_verify(migration, cause: str, *, repo=None, number: int | None = None, phase: str = Phase.MIGRATION):
    """A failed attempt whose verifier output says `cause` (varying by repository)."""
    repo = repo or make_repo()
    attempt = make_attempt(migration, repo, outcome=Outcome.VERIFY_FAILED, phase=phase, number=number)
    text = FAILURE_CAUSES[cause].format(repo=repo.full_name.split("/")[-1], n=attempt.pk % 90 + 10)
    make_verifier_result(attempt, kind="maven", snippet=text)
    return attempt


def make_failed_judge(migration, rationale: str, *, repo=None):
    attempt = make_attempt(migration, repo or make_repo(), outcome=Outcome.JUDGE_REJECTED)
    make_judge(attempt, rationale=rationale)
    return attempt


def make_succeeded(migration, repo):
    return make_attempt(migration, repo, outcome=Outcome.SUCCEEDED)
