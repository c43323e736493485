"""A migration's counts for the overview and the dashboard: kept in `MigrationCounts` by `migration_counts_refresh`
(run when an import or a clustering run finishes), read back in one query, counted live only for a migration
that has no kept row yet.

Attempts, verifier results and targets are written only by imports, so the counts kept after an import stay
true until the next one; pull requests and reviews change in between, so the funnel is still read live.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date, timedelta

from django.core.cache import cache
from django.db import transaction
from django.db.models import Count, Max
from django.utils import timezone

from fleetui.common import charts
from runs.dashboards import selectors
from runs.fleet.counts import MigrationCounts
from runs.fleet.models import Attempt, Migration, PullRequest, Target
from runs.reviews.models import ReviewDecision

BURNDOWN_MAX_DAYS = 365


@dataclass
class Counted:
    """One migration's counts as the pages use them, kept or counted live."""

    summary: selectors.MigrationSummary
    failures_by_day: dict[date, int] = field(default_factory=dict)
    first_ended_at: object = None
    last_ended_at: object = None
    burndown_days: list[date] = field(default_factory=list)
    burndown_series: dict[str, list[int]] = field(default_factory=dict)
    verifier_pass_rates: list[tuple[str, int, int]] = field(default_factory=list)
    prompt_revisions: list[tuple[int, int, int]] = field(default_factory=list)
    attempts_histogram: dict[int, int] = field(default_factory=dict)
    kept: bool = False


def migrations_with_counts():
    """Migrations with their kept counts joined in (`migration_counts_many` then reads no more for kept ones)."""
    return Migration.objects.select_related("kept_counts")


def migration_counts_many(
    *, migrations: list[Migration], detail: bool = False, trend: bool = False
) -> dict[int, Counted]:
    """migration id -> its counts: kept ones read from `migration.kept_counts` (no query when the migrations come
    from `migrations_with_counts`), the others counted live (3 queries, `trend` adds the failures per day,
    `detail` the dashboard's charts)."""
    found, missing = {}, []
    for migration in migrations:
        try:
            found[migration.pk] = _from_kept(migration, migration.kept_counts)
        except MigrationCounts.DoesNotExist:
            missing.append(migration)
    if missing:
        found.update(_counted_live(missing, detail=detail, trend=trend))
    return found


def migration_counts_refresh(*, migration_ids: list[int] | None = None) -> int:
    """Count the migrations again (every one when no ids are given) and keep the counts; returns how many."""
    migrations = list(
        Migration.objects.all() if migration_ids is None else Migration.objects.filter(pk__in=migration_ids)
    )
    counted = _counted_live(migrations, detail=True, trend=True) if migrations else {}
    rows = [_to_kept(c) for c in counted.values()]
    with transaction.atomic():
        MigrationCounts.objects.filter(migration__in=[m.pk for m in migrations]).delete()
        MigrationCounts.objects.bulk_create(rows)
    return len(rows)


def migration_counts_forget(*, migration_ids: list[int] | None = None) -> None:
    """Drop kept counts (every migration's when no ids are given): the pages count those migrations live."""
    rows = (
        MigrationCounts.objects.all() if migration_ids is None else MigrationCounts.objects.filter(pk__in=migration_ids)
    )
    rows.delete()


def migrations_changed_since(since) -> list[int]:
    """Migrations whose attempts or repositories changed since a time (what an import wrote)."""
    attempts = Attempt.objects.filter(updated_at__gte=since).values_list("migration_id", flat=True).distinct()
    targets = Target.objects.filter(updated_at__gte=since).values_list("migration_id", flat=True).distinct()
    return sorted(set(attempts) | set(targets))


def _counted_live(migrations: list[Migration], *, detail: bool, trend: bool) -> dict[int, Counted]:
    summaries = selectors.migration_summaries(migrations=migrations)
    per_day = selectors.failures_per_day(since=None, migration_ids=list(summaries)) if trend or detail else {}
    found = {pk: Counted(summary=s, failures_by_day=per_day.get(pk, {})) for pk, s in summaries.items()}
    if detail:
        for counted in found.values():
            _detail_live(counted)
    return found


def _detail_live(counted: Counted) -> None:
    """The dashboard's own counts of one migration (5 queries)."""
    migration = counted.summary.migration
    counted.first_ended_at, counted.last_ended_at = selectors.migration_time_span(migration=migration)
    if counted.first_ended_at is not None:
        start = timezone.localdate(counted.first_ended_at)
        end = max(timezone.localdate(counted.last_ended_at), start)
        start = max(start, end - timedelta(days=BURNDOWN_MAX_DAYS))
        counted.burndown_days, counted.burndown_series = charts.burndown_series(
            selectors.migration_burndown_events(migration=migration), start=start, end=end, total=counted.summary.repos
        )
    counted.verifier_pass_rates = selectors.verifier_pass_rates(migration=migration)
    counted.prompt_revisions = selectors.prompt_revision_outcomes(migration=migration)
    counted.attempts_histogram = selectors.attempts_per_repository(migration=migration)


def _to_kept(counted: Counted) -> MigrationCounts:
    summary = counted.summary
    return MigrationCounts(
        migration=summary.migration,
        repos_by_state=summary.by_state,
        attempts=summary.attempts,
        agent_failures=summary.origins.agent,
        pre_existing_failures=summary.origins.pre_existing,
        failures_by_day={day.isoformat(): n for day, n in counted.failures_by_day.items()},
        first_ended_at=counted.first_ended_at,
        last_ended_at=counted.last_ended_at,
        burndown={"days": [d.isoformat() for d in counted.burndown_days], "series": counted.burndown_series},
        verifier_pass_rates=[list(row) for row in counted.verifier_pass_rates],
        prompt_revisions=[list(row) for row in counted.prompt_revisions],
        attempts_histogram={str(k): n for k, n in counted.attempts_histogram.items()},
    )


def _from_kept(migration: Migration, row: MigrationCounts) -> Counted:
    by_state = {state: int(n) for state, n in row.repos_by_state.items()}
    summary = selectors.MigrationSummary(
        migration=migration,
        repos=sum(by_state.values()),
        attempts=row.attempts,
        origins=selectors.FailureOrigins(row.agent_failures, row.pre_existing_failures),
        by_state=by_state,
    )
    burndown = row.burndown or {}
    return Counted(
        summary=summary,
        failures_by_day={date.fromisoformat(day): n for day, n in row.failures_by_day.items()},
        first_ended_at=row.first_ended_at,
        last_ended_at=row.last_ended_at,
        burndown_days=[date.fromisoformat(d) for d in burndown.get("days", [])],
        burndown_series=burndown.get("series", {}),
        verifier_pass_rates=[tuple(r) for r in row.verifier_pass_rates],
        prompt_revisions=[tuple(r) for r in row.prompt_revisions],
        attempts_histogram={int(k): n for k, n in row.attempts_histogram.items()},
        kept=True,
    )


# The funnel joins pull requests and reviews, which change between imports: it is kept for at most this long, and
# counted again at once when the migration's pull requests, reviews or kept counts change.
FUNNEL_CACHE_SECONDS = 60


def migration_funnel_current(*, migration: Migration, counted: Counted) -> selectors.Funnel:
    """The migration's funnel, counted again only when what it reads has changed (2 queries when it has not)."""
    prs = PullRequest.objects.filter(migration=migration).order_by()
    pr_mark = prs.aggregate(n=Count("id"), updated=Max("updated_at"), synced=Max("synced_at"), last=Max("id"))
    reviews = ReviewDecision.objects.filter(migration=migration).order_by()
    review_mark = reviews.aggregate(n=Count("id"), last=Max("id"), created=Max("created_at"))
    kept = counted.summary.attempts, counted.summary.by_state, counted.last_ended_at
    mark = repr((sorted(pr_mark.items()), sorted(review_mark.items()), kept))
    key = f"dashboard-funnel:{migration.pk}:{hashlib.sha256(mark.encode()).hexdigest()}"
    funnel = cache.get(key)
    if funnel is None:
        funnel = selectors.migration_funnel(migration=migration)
        cache.set(key, funnel, FUNNEL_CACHE_SECONDS)
    return funnel
