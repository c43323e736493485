"""Writes parsed attempts and keeps each repository's derived state per migration."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime
from decimal import Decimal

from django.db.models import Q

from runs.fleet.layers import attempt_layer
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
    VerifierResult,
)
from runs.imports.parsed import ParsedAttempt
from triage.engine.snippets import snippet_and_signature


def ms_to_datetime(value: int | None) -> datetime | None:
    return datetime.fromtimestamp(value / 1000, tz=UTC) if value is not None else None


Lookups = tuple[dict[str, Migration], dict[str, Repository], dict[tuple[int, int], PromptRevision]]


def attempt_lookups(items: list[tuple[ParsedAttempt, str]]) -> Lookups:
    """The migrations, repositories and prompt revisions a page of traces names, created where new."""
    migrations = _migrations_for(items)
    return migrations, _repositories_for([parsed.repo for parsed, _ in items]), _revisions_for(items, migrations)


def attempts_store(*, items: list[tuple[ParsedAttempt, str]]) -> list[Attempt]:
    """Writes a page of new traces with a handful of bulk queries; the caller holds a transaction."""
    migrations, repositories, revisions = attempt_lookups(items)
    _links_check(items, migrations, repositories)
    attempts = [
        Attempt(
            trace_id=parsed.trace_id,
            **_attempt_fields(parsed, fingerprint, migrations[parsed.migration], repositories[parsed.repo], revisions),
        )
        for parsed, fingerprint in items
    ]
    Attempt.objects.bulk_create(attempts)
    if any(attempt.pk is None for attempt in attempts):  # backends that return no ids on insert
        ids = dict(Attempt.objects.filter(trace_id__in=[a.trace_id for a in attempts]).values_list("trace_id", "id"))
        for attempt in attempts:
            attempt.pk = attempt.id = ids[attempt.trace_id]
    verifiers, verdicts, pulls = [], [], {}
    baselines = _baseline_outputs([(attempt, parsed) for attempt, (parsed, _) in zip(attempts, items, strict=True)])
    for attempt, (parsed, _) in zip(attempts, items, strict=True):
        verifiers += [_verifier_row(attempt, parsed, verifier, baselines) for verifier in parsed.verifiers]
        if parsed.judge is not None:
            verdicts.append(_verdict_row(attempt, parsed))
        if parsed.pr_url and (parsed.pr_url not in pulls or attempt.number >= pulls[parsed.pr_url].number):
            pulls[parsed.pr_url] = attempt
    VerifierResult.objects.bulk_create(verifiers)
    JudgeVerdict.objects.bulk_create(verdicts)
    _pull_requests_link(pulls)
    return attempts


def attempt_upsert(*, parsed: ParsedAttempt, fingerprint: str, lookups: Lookups | None = None) -> Attempt:
    """Creates or updates the attempt for one trace, with its verifier results and verdict."""
    migrations, repositories, revisions = lookups or attempt_lookups([(parsed, fingerprint)])
    _links_check([(parsed, fingerprint)], migrations, repositories)
    fields = _attempt_fields(parsed, fingerprint, migrations[parsed.migration], repositories[parsed.repo], revisions)
    attempt, _ = Attempt.objects.update_or_create(trace_id=parsed.trace_id, defaults=fields)
    # An updated trace may change the outcome its pull requests show the review queue.
    ready = PullRequest.ready(attempt)
    PullRequest.objects.filter(attempt=attempt).exclude(attempt_ready=ready).update(attempt_ready=ready)
    _verifiers_replace(attempt, parsed)
    if parsed.judge is None:
        JudgeVerdict.objects.filter(attempt=attempt).delete()
    else:
        row = _verdict_row(attempt, parsed)
        JudgeVerdict.objects.update_or_create(
            attempt=attempt, defaults={"verdict": row.verdict, "rationale": row.rationale, "source": row.source}
        )
    if parsed.pr_url:
        _pull_requests_link({parsed.pr_url: attempt})
    return attempt


def _migrations_for(items: list[tuple[ParsedAttempt, str]]) -> dict[str, Migration]:
    titles = {parsed.migration: parsed.migration_title for parsed, _ in items}
    found = {m.slug: m for m in Migration.objects.filter(slug__in=titles)}
    for slug, title in titles.items():
        if slug not in found:
            found[slug], _ = Migration.objects.get_or_create(slug=slug, defaults={"title": title or slug})
        elif title and found[slug].title == slug:
            Migration.objects.filter(pk=found[slug].pk).update(title=title)
    return found


def _repositories_for(names: list[str]) -> dict[str, Repository]:
    wanted = set(names)
    found = {r.full_name: r for r in Repository.objects.filter(full_name__in=wanted)}
    missing = wanted - found.keys()
    if missing:
        Repository.objects.bulk_create([Repository(full_name=name) for name in sorted(missing)], ignore_conflicts=True)
        found.update({r.full_name: r for r in Repository.objects.filter(full_name__in=missing)})
    return found


def _revisions_for(items, migrations: dict[str, Migration]) -> dict[tuple[int, int], PromptRevision]:
    wanted: dict[tuple[int, int], str] = {}
    for parsed, _ in items:
        if parsed.prompt_rev is not None:
            key = (migrations[parsed.migration].pk, parsed.prompt_rev)
            wanted[key] = wanted.get(key) or parsed.prompt_text
    if not wanted:
        return {}
    query = Q()
    for migration_id, number in wanted:
        query |= Q(migration_id=migration_id, number=number)
    found = {(r.migration_id, r.number): r for r in PromptRevision.objects.filter(query)}
    for key, text in wanted.items():
        revision = found.get(key)
        if revision is None:
            found[key], _ = PromptRevision.objects.get_or_create(
                migration_id=key[0], number=key[1], defaults={"text": text, "text_hash": PromptRevision.hash_text(text)}
            )
        elif not revision.text and text:
            PromptRevision.objects.filter(pk=revision.pk).update(text=text, text_hash=PromptRevision.hash_text(text))
    return found


def _attempt_fields(parsed, fingerprint, migration, repository, revisions) -> dict:
    return {
        "experiment_id": parsed.experiment_id,
        "migration": migration,
        "repository": repository,
        "number": parsed.number,
        "phase": parsed.phase,
        "prompt_revision": revisions.get((migration.pk, parsed.prompt_rev)),
        "outcome": parsed.outcome,
        # Pre-existing needs the repository's baseline: `targets_refresh` settles it once the page is stored.
        "layer": attempt_layer(outcome=parsed.outcome, verifiers=parsed.verifiers),
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


def _verdict_row(attempt: Attempt, parsed: ParsedAttempt) -> JudgeVerdict:
    return JudgeVerdict(
        attempt=attempt, verdict=parsed.judge.verdict, rationale=parsed.judge.rationale, source=parsed.judge.source
    )


def _verifier_row(attempt: Attempt, parsed: ParsedAttempt, verifier, baselines: dict) -> VerifierResult:
    snippet, signature = (
        ("", "")
        if verifier.passed
        else snippet_and_signature(
            verifier.output,
            kind=verifier.kind,
            repo=parsed.repo,
            baseline=baselines.get((attempt.migration_id, attempt.repository_id, verifier.kind)),
        )
    )
    return VerifierResult(
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


def _baseline_outputs(pairs: list[tuple[Attempt, ParsedAttempt]]) -> dict[tuple[int, int, str], str]:
    """For the failed calls of these attempts: the output of the latest passing call of the same verifier in the
    repository's imported baseline, keyed by (migration id, repository id, verifier kind); one query per page."""
    wanted = {
        (attempt.migration_id, attempt.repository_id, verifier.kind)
        for attempt, parsed in pairs
        if attempt.phase != Phase.BASELINE
        for verifier in parsed.verifiers
        if not verifier.passed
    }
    if not wanted:
        return {}
    rows = (
        VerifierResult.objects.filter(
            attempt__migration_id__in={key[0] for key in wanted},
            attempt__repository_id__in={key[1] for key in wanted},
            attempt__phase=Phase.BASELINE,
            kind__in={key[2] for key in wanted},
            passed=True,
        )
        .order_by("attempt__number", "position")
        .values_list("attempt__migration_id", "attempt__repository_id", "kind", "output")
    )
    # Ascending order: the latest baseline call of each key is the one left in the dict.
    return {(m, r, k): output for m, r, k, output in rows if (m, r, k) in wanted}


def _links_check(items: list[tuple[ParsedAttempt, str]], migrations, repositories) -> None:
    """Refuses the pull request links that would move a pull request to another repository or migration.

    A pull request belongs to the repository and migration of the first attempt that named it;
    a later trace of anything else that names it keeps its attempt but loses the link (see `link_errors`).
    """
    urls = {parsed.pr_url for parsed, _ in items if parsed.pr_url}
    if not urls:
        return
    owners = {
        url: (repository_id, migration_id, repository_name, migration_slug)
        for url, repository_id, migration_id, repository_name, migration_slug in PullRequest.objects.filter(
            url__in=urls
        ).values_list("url", "repository_id", "migration_id", "repository__full_name", "migration__slug")
    }
    for parsed, _ in items:
        if not parsed.pr_url:
            continue
        repository, migration = repositories[parsed.repo], migrations[parsed.migration]
        owner = owners.setdefault(parsed.pr_url, (repository.pk, migration.pk, repository.full_name, migration.slug))
        if owner[0] != repository.pk:
            parsed.link_refuse(f"fleet.pr_url {parsed.pr_url!r} is a pull request of repository {owner[2]!r}")
        elif owner[1] != migration.pk:
            parsed.link_refuse(f"fleet.pr_url {parsed.pr_url!r} is already the pull request of migration {owner[3]!r}")


def _pull_requests_link(pulls: dict[str, Attempt]) -> None:
    """Creates the pull requests named by attempts, or points them at the latest attempt.

    `_links_check` has already refused every link to a pull request of another repository or migration;
    the filter on both below keeps that true even against a concurrent import.
    """
    if not pulls:
        return
    existing = {p.url: p for p in PullRequest.objects.filter(url__in=pulls).select_related("attempt")}
    new = []
    for url, attempt in pulls.items():
        pull = existing.get(url)
        if pull is None:
            new.append(
                PullRequest(
                    url=url,
                    repository_id=attempt.repository_id,
                    migration_id=attempt.migration_id,
                    attempt=attempt,
                    attempt_ready=PullRequest.ready(attempt),
                    number=_pr_number(url),
                )
            )
        elif pull.attempt is None or attempt.number >= pull.attempt.number:
            PullRequest.objects.filter(
                pk=pull.pk, repository_id=attempt.repository_id, migration_id=attempt.migration_id
            ).update(attempt=attempt, attempt_ready=PullRequest.ready(attempt))
    PullRequest.objects.bulk_create(new, ignore_conflicts=True)


def _pr_number(url: str) -> int | None:
    tail = url.rstrip("/").rpartition("/")[2]
    return int(tail) if tail.isascii() and tail.isdigit() else None


def _verifiers_replace(attempt: Attempt, parsed: ParsedAttempt) -> None:
    """Keeps verifier rows whose content is unchanged, so references to them survive updates."""
    existing = {v.position: v for v in VerifierResult.objects.filter(attempt=attempt)}
    baselines = _baseline_outputs([(attempt, parsed)])
    new_rows, stale = [], []
    for verifier in parsed.verifiers:
        row = existing.pop(verifier.position, None)
        if row is not None and row.span_id == verifier.span_id and row.passed == verifier.passed:
            continue
        if row is not None:
            stale.append(row.pk)
        new_rows.append(_verifier_row(attempt, parsed, verifier, baselines))
    stale += [row.pk for row in existing.values()]
    if stale:
        VerifierResult.objects.filter(pk__in=stale).delete()
    VerifierResult.objects.bulk_create(new_rows)


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
    targets, failed_baselines, passed = [], set(), {}
    for pair in pairs:
        rows = attempts.get(pair, [])
        migration_rows = sorted((r for r in rows if r[3] == Phase.MIGRATION), key=_attempt_order)
        baseline_rows = sorted((r for r in rows if r[3] == Phase.BASELINE), key=_attempt_order)
        latest = migration_rows[-1] if migration_rows else None
        baseline = baseline_rows[-1] if baseline_rows else None
        ended = [r[5] for r in rows if r[5] is not None]
        if baseline and baseline[6] == Outcome.VERIFY_FAILED:
            failed_baselines.add(pair)
        if latest and latest[6] == Outcome.SUCCEEDED:
            passed[latest[0]] = len(targets)
        targets.append(
            Target(
                migration_id=pair[0],
                repository_id=pair[1],
                state=latest[6] if latest else RepositoryState.NOT_STARTED,
                pre_existing_failure=pair in failed_baselines,
                latest_attempt_id=latest[0] if latest else None,
                baseline_attempt_id=baseline[0] if baseline else None,
                attempts_count=len(migration_rows),
                last_activity_at=max(ended) if ended else None,
            )
        )
    # The layers first: a passing attempt that verified nothing leaves its repository unverified, not succeeded.
    _layers_refresh(query, failed_baselines)
    for attempt_id in _unverifiable_passes(query, passed):
        targets[passed[attempt_id]].state = RepositoryState.UNVERIFIED
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


def _unverifiable_passes(query: Q, passed: dict[int, int]) -> list[int]:
    """Of the latest attempts that succeeded (`passed` holds their ids), those whose layer is unverifiable (one
    query, within the pairs' attempts)."""
    if not passed:
        return []
    rows = Attempt.objects.filter(query, outcome=Outcome.SUCCEEDED, layer=Layer.UNVERIFIABLE, phase=Phase.MIGRATION)
    return [pk for pk in rows.values_list("id", flat=True) if pk in passed]


def _layers_refresh(query: Q, failed_baselines: set[tuple[int, int]]) -> None:
    """Failing attempts of repositories whose baseline failed are pre-existing; the others get their own layer back."""
    failed = Q(pk__in=[])
    for migration_id, repository_id in failed_baselines:
        failed |= Q(migration_id=migration_id, repository_id=repository_id)
    attempts = Attempt.objects.filter(query)
    attempts.filter(failed, outcome__in=FAILED_OUTCOMES).exclude(layer=Layer.PRE_EXISTING).update(
        layer=Layer.PRE_EXISTING
    )
    stale = list(attempts.filter(layer=Layer.PRE_EXISTING).exclude(failed).prefetch_related("verifier_results"))
    for attempt in stale:
        attempt.layer = attempt_layer(outcome=attempt.outcome, verifiers=attempt.verifier_results.all())
    Attempt.objects.bulk_update(stale, ["layer"])


def _attempt_order(row: tuple) -> tuple:
    ended = row[5]
    return (row[4], ended.timestamp() if ended else 0.0, row[0])
