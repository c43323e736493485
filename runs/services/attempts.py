"""Writes parsed attempts and keeps each repository's derived state per migration."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime
from decimal import Decimal

from django.db.models import Q

from runs.models import (
    Attempt,
    JudgeVerdict,
    Migration,
    Outcome,
    Phase,
    PromptRevision,
    PullRequest,
    Repository,
    RepositoryState,
    Target,
    VerifierResult,
)
from runs.traces import ParsedAttempt
from triage.snippets import snippet_and_signature


def ms_to_datetime(value: int | None) -> datetime | None:
    return datetime.fromtimestamp(value / 1000, tz=UTC) if value is not None else None


def attempt_upsert(*, parsed: ParsedAttempt, fingerprint: str) -> Attempt:
    """Creates or updates the attempt for one trace, with its verifier results and verdict."""
    migration, created = Migration.objects.get_or_create(
        slug=parsed.migration, defaults={"title": parsed.migration_title or parsed.migration}
    )
    if not created and parsed.migration_title and migration.title == migration.slug:
        Migration.objects.filter(pk=migration.pk).update(title=parsed.migration_title)
    repository, _ = Repository.objects.get_or_create(full_name=parsed.repo)
    revision = None
    if parsed.prompt_rev is not None:
        revision, created = PromptRevision.objects.get_or_create(
            migration=migration,
            number=parsed.prompt_rev,
            defaults={"text": parsed.prompt_text, "text_hash": PromptRevision.hash_text(parsed.prompt_text)},
        )
        if not created and not revision.text and parsed.prompt_text:
            revision.text = parsed.prompt_text
            revision.text_hash = PromptRevision.hash_text(parsed.prompt_text)
            revision.save(update_fields=["text", "text_hash"])

    fields = {
        "experiment_id": parsed.experiment_id,
        "migration": migration,
        "repository": repository,
        "number": parsed.number,
        "phase": parsed.phase,
        "prompt_revision": revision,
        "outcome": parsed.outcome,
        "trace_state": parsed.trace_state,
        "started_at": ms_to_datetime(parsed.started_ms),
        "ended_at": ms_to_datetime(parsed.ended_ms),
        "duration_ms": parsed.duration_ms,
        "llm_calls": parsed.llm_calls,
        "input_tokens": parsed.input_tokens,
        "output_tokens": parsed.output_tokens,
        "cost_usd": Decimal(str(round(parsed.cost_usd, 6))) if parsed.cost_usd is not None else None,
        "pr_url": parsed.pr_url,
        "problems": parsed.problems,
        "span_tree": parsed.span_tree,
        "fingerprint": fingerprint,
    }
    attempt, _ = Attempt.objects.update_or_create(trace_id=parsed.trace_id, defaults=fields)
    _verifiers_replace(attempt, parsed)
    if parsed.judge is None:
        JudgeVerdict.objects.filter(attempt=attempt).delete()
    else:
        JudgeVerdict.objects.update_or_create(
            attempt=attempt,
            defaults={
                "verdict": parsed.judge.verdict,
                "rationale": parsed.judge.rationale,
                "source": parsed.judge.source,
            },
        )
    if parsed.pr_url:
        pull, created = PullRequest.objects.get_or_create(
            url=parsed.pr_url, defaults={"repository": repository, "migration": migration, "attempt": attempt}
        )
        if not created and pull.attempt_id != attempt.pk and _is_later(attempt, pull.attempt_id):
            PullRequest.objects.filter(pk=pull.pk).update(attempt=attempt)
    return attempt


def _verifiers_replace(attempt: Attempt, parsed: ParsedAttempt) -> None:
    """Keeps verifier rows whose content is unchanged, so references to them survive updates."""
    existing = {v.position: v for v in VerifierResult.objects.filter(attempt=attempt)}
    new_rows = []
    for verifier in parsed.verifiers:
        row = existing.pop(verifier.position, None)
        if row is not None and row.span_id == verifier.span_id and row.passed == verifier.passed:
            continue
        if row is not None:
            row.delete()
        snippet, signature = (
            ("", "")
            if verifier.passed
            else snippet_and_signature(verifier.output, kind=verifier.kind, repo=parsed.repo)
        )
        new_rows.append(
            VerifierResult(
                attempt=attempt,
                position=verifier.position,
                span_id=verifier.span_id,
                span_name=verifier.span_name,
                kind=verifier.kind,
                passed=verifier.passed,
                exit_code=verifier.exit_code,
                command=verifier.command,
                output=verifier.output,
                output_size=verifier.output_size,
                output_truncated=verifier.truncated,
                snippet=snippet,
                signature=signature,
            )
        )
    if existing:
        VerifierResult.objects.filter(pk__in=[row.pk for row in existing.values()]).delete()
    VerifierResult.objects.bulk_create(new_rows)


def _is_later(attempt: Attempt, other_id: int | None) -> bool:
    if other_id is None:
        return True
    other = Attempt.objects.filter(pk=other_id).values_list("number", flat=True).first()
    return other is None or attempt.number >= other


def targets_refresh(*, pairs: set[tuple[int, int]]) -> None:
    """Recomputes the derived state of each (migration id, repository id) pair from its attempts."""
    if not pairs:
        return
    query = Q()
    by_migration: dict[int, set[int]] = defaultdict(set)
    for migration_id, repository_id in pairs:
        by_migration[migration_id].add(repository_id)
    for migration_id, repository_ids in by_migration.items():
        query |= Q(migration_id=migration_id, repository_id__in=repository_ids)
    attempts: dict[tuple[int, int], list[tuple]] = defaultdict(list)
    rows = Attempt.objects.filter(query).values_list(
        "id", "migration_id", "repository_id", "phase", "number", "ended_at", "outcome"
    )
    for row in rows:
        attempts[(row[1], row[2])].append(row)
    targets = []
    for pair in pairs:
        rows = attempts.get(pair, [])
        migration_rows = sorted((r for r in rows if r[3] == Phase.MIGRATION), key=_attempt_order)
        baseline_rows = sorted((r for r in rows if r[3] == Phase.BASELINE), key=_attempt_order)
        latest = migration_rows[-1] if migration_rows else None
        baseline = baseline_rows[-1] if baseline_rows else None
        ended = [r[5] for r in rows if r[5] is not None]
        targets.append(
            Target(
                migration_id=pair[0],
                repository_id=pair[1],
                state=latest[6] if latest else RepositoryState.NOT_STARTED,
                pre_existing_failure=bool(baseline and baseline[6] == Outcome.VERIFY_FAILED),
                latest_attempt_id=latest[0] if latest else None,
                baseline_attempt_id=baseline[0] if baseline else None,
                attempts_count=len(migration_rows),
                last_activity_at=max(ended) if ended else None,
            )
        )
    Target.objects.bulk_create(
        targets,
        update_conflicts=True,
        unique_fields=["migration", "repository"],
        update_fields=[
            "state",
            "pre_existing_failure",
            "latest_attempt",
            "baseline_attempt",
            "attempts_count",
            "last_activity_at",
        ],
    )


def _attempt_order(row: tuple) -> tuple:
    ended = row[5]
    return (row[4], ended.timestamp() if ended else 0.0, row[0])
