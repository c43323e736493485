"""The JSON shapes of fleet records (pull requests, attempts) and the migration lookup every API module shares."""

from fleetui.common.api import ApiError, iso
from runs.fleet import selectors
from runs.fleet.models import Attempt, Migration, PullRequest


def migration_or_404(slug: str) -> Migration:
    """The migration with this slug, or an API 404."""
    migration = Migration.objects.filter(slug=slug).first()
    if migration is None:
        raise ApiError(404, f"no migration with slug {slug[:200]!r}")
    return migration


def pull_request_json(pr: PullRequest | None) -> dict | None:
    if pr is None:
        return None
    return {
        "url": pr.url,
        "number": pr.number,
        "state": pr.state,
        "draft": pr.draft,
        "checks": pr.checks or None,
        "review": pr.review or None,
        "updated_at": iso(pr.updated_at),
    }


def attempt_results_json(attempt: Attempt) -> dict:
    """An attempt's identity and what its verifiers and judge said: the part every attempt-bearing answer shares."""
    judge = selectors.attempt_judge(attempt)
    return {
        "trace_id": attempt.trace_id,
        "attempt": attempt.number,
        "ended_at": iso(attempt.ended_at),
        "verifiers": [
            {"verifier": r.kind, "passed": r.passed, "snippet": r.snippet} for r in attempt.verifier_results.all()
        ],
        "judge": {"verdict": judge.verdict, "rationale": judge.rationale} if judge else None,
    }


def attempt_json(attempt: Attempt) -> dict:
    """One attempt as the API answers it."""
    return {
        **attempt_results_json(attempt),
        "repo": attempt.repository.full_name,
        "phase": attempt.phase,
        "outcome": attempt.outcome,
        "layer": attempt.layer,
        "prompt_rev": attempt.prompt_revision.number if attempt.prompt_revision else None,
        "started_at": iso(attempt.started_at),
    }
