"""What a cluster has cost so far and how often reruns fixed it; reads only, a constant number of queries a page.

A cluster's cost sums every attempt (baseline and migration) of its members' repositories in its migration. An
attempt without a recorded cost was priced at import by its LLM calls' models where `FLEETUI_MODEL_PRICES`
names them (runs/imports/pricing.py); one still without `cost_usd` but with token counts is priced by
`settings.FLEETUI_DEFAULT_PRICE` (`{"input": usd, "output": usd}` per million tokens); without either such
attempts add tokens and time but no dollars. The fix rate comes from the reruns, a later stage: they register
their reader with `fix_rates_from` (runs/reruns/receivers.py); until one is registered every rate is null.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.db.models import Count, Q, QuerySet, Sum

from runs.fleet.models import Attempt
from triage.clusters.counts import cluster_counts_many
from triage.clusters.models import ClusterCounts, ClusterMember

MILLION = Decimal(1_000_000)
# Reads {cluster id: (fixed, ended)} for clusters given by their ids and their members (a ClusterMember query the
# reader narrows, so no list of attempt ids travels); one query, two when reruns started from members' attempts.
FixRateReader = Callable[[list[int], QuerySet], dict[int, tuple[int, int]]]
_fix_rate_reader: list[FixRateReader] = []


def fix_rates_from(reader: FixRateReader) -> None:
    """Count the reruns `reader` knows of in every cluster's fix rate (registered at start-up)."""
    _fix_rate_reader[:] = [reader]


# Reads the newest reruns of one cluster, given its id and its members' attempt ids (a query), each as a dict with
# batch_id, created_at, items, fixed, ended, usd (Decimal | None), tokens and infrastructure_retry; one query.
RerunCostReader = Callable[[int, QuerySet], list[dict]]
_rerun_cost_reader: list[RerunCostReader] = []


def rerun_costs_from(reader: RerunCostReader) -> None:
    """List what each rerun of a cluster cost with `reader` (registered at start-up by the reruns)."""
    _rerun_cost_reader[:] = [reader]


def cluster_rerun_costs(*, cluster_id: int) -> list[dict]:
    """What each of the cluster's newest reruns cost and fixed; [] before the reruns register; one query."""
    if not _rerun_cost_reader:
        return []
    attempt_ids = ClusterMember.objects.filter(cluster_id=cluster_id).values("attempt_id")
    return _rerun_cost_reader[0](cluster_id, attempt_ids)


@dataclass(frozen=True)
class Spend:
    """Summed cost of some attempts; `usd` is None when none of them has a known or priced cost."""

    usd: Decimal | None = None
    tokens: int = 0
    agent_ms: int = 0
    priced_attempts: int = 0

    def __add__(self, other: Spend) -> Spend:
        usd = None if self.usd is None and other.usd is None else (self.usd or 0) + (other.usd or 0)
        return Spend(
            usd=usd,
            tokens=self.tokens + other.tokens,
            agent_ms=self.agent_ms + other.agent_ms,
            priced_attempts=self.priced_attempts + other.priced_attempts,
        )

    @property
    def agent_seconds(self) -> float:
        return self.agent_ms / 1000

    def as_json(self) -> dict:
        return {
            "usd": None if self.usd is None else float(round(self.usd, 6)),
            "tokens": self.tokens,
            "agent_seconds": round(self.agent_ms / 1000, 3),
        }


def default_price() -> tuple[Decimal, Decimal] | None:
    """(input, output) USD per million tokens from settings, or None when not set or not understood."""
    price = getattr(settings, "FLEETUI_DEFAULT_PRICE", None)
    if not isinstance(price, dict):
        return None
    try:
        return Decimal(str(price["input"])), Decimal(str(price["output"]))
    except (KeyError, ArithmeticError, ValueError, TypeError):
        return None


def spend_rows(attempts, fields: tuple[str, ...]):
    """The unpriced sums of `attempts` per value of `fields`: known, known_n, tokens_in/out, open_in/out, open_n,
    ms (a lazy query)."""
    unpriced = Q(cost_usd__isnull=True)
    return (
        attempts.values(*fields)
        .annotate(
            known=Sum("cost_usd"),
            known_n=Count("id", filter=Q(cost_usd__isnull=False)),
            tokens_in=Sum("input_tokens"),
            tokens_out=Sum("output_tokens"),
            open_in=Sum("input_tokens", filter=unpriced),
            open_out=Sum("output_tokens", filter=unpriced),
            open_n=Count("id", filter=unpriced & (Q(input_tokens__isnull=False) | Q(output_tokens__isnull=False))),
            ms=Sum("duration_ms"),
        )
        .order_by()
    )


def _priced(known, known_n, open_in, open_out, open_n, tokens, ms, price) -> Spend:
    usd = known if known_n else None
    priced = known_n
    if price is not None and open_n:
        extra = (Decimal(open_in or 0) * price[0] + Decimal(open_out or 0) * price[1]) / MILLION
        usd = (usd or Decimal(0)) + extra
        priced += open_n
    return Spend(usd=usd, tokens=tokens, agent_ms=ms or 0, priced_attempts=priced)


def _spend_grouped(attempts, fields: tuple[str, ...]) -> dict[tuple, Spend]:
    """Spend of `attempts` per value of `fields` (a tuple key); one query."""
    price = default_price()
    return {
        tuple(row[field] for field in fields): _priced(
            row["known"],
            row["known_n"],
            row["open_in"],
            row["open_out"],
            row["open_n"],
            (row["tokens_in"] or 0) + (row["tokens_out"] or 0),
            row["ms"],
            price,
        )
        for row in spend_rows(attempts, fields)
    }


def kept_spend(kept: ClusterCounts, price=None) -> Spend:
    """The Spend of a cluster's kept sums, priced by `price` (default_price() when not given)."""
    return _priced(
        kept.usd_known,
        kept.priced_known,
        kept.open_in,
        kept.open_out,
        kept.open_attempts,
        kept.tokens_in + kept.tokens_out,
        kept.agent_ms,
        default_price() if price is None else price,
    )


def _pairs_attempts(pairs: set[tuple[int, int]]):
    migrations = {m for m, _ in pairs}
    repositories = {r for _, r in pairs}
    return Attempt.objects.filter(migration_id__in=migrations, repository_id__in=repositories)


def _spend_by_repository(pairs: set[tuple[int, int]]) -> dict[tuple[int, int], Spend]:
    """(migration id, repository id) -> Spend of its attempts; one query."""
    if not pairs:
        return {}
    spends = _spend_grouped(_pairs_attempts(pairs), ("migration_id", "repository_id"))
    return {key: spend for key, spend in spends.items() if key in pairs}


def migration_spend_by_layer(*, migration_id: int) -> dict[str, Spend]:
    """layer -> Spend of the migration's attempts in it; one query."""
    spends = _spend_grouped(Attempt.objects.filter(migration_id=migration_id), ("layer",))
    return {layer: spend for (layer,), spend in spends.items()}


def cluster_spend_by_layer(*, cluster_ids: list[int]) -> dict[int, dict[str, Spend]]:
    """cluster id -> {layer: Spend of its members' repositories' attempts in that layer}; two queries."""
    ids = list(cluster_ids)
    if not ids:
        return {}
    repos_of = _members(ids).repos_of
    pairs = {pair for cluster_pairs in repos_of.values() for pair in cluster_pairs}
    if not pairs:
        return {cluster_id: {} for cluster_id in ids}
    spends = _spend_grouped(_pairs_attempts(pairs), ("migration_id", "repository_id", "layer"))
    layers_of: dict[tuple[int, int], list[tuple[str, Spend]]] = defaultdict(list)
    for (migration_id, repository_id, layer), spend in spends.items():
        layers_of[(migration_id, repository_id)].append((layer, spend))
    result: dict[int, dict[str, Spend]] = {}
    for cluster_id in ids:
        by_layer: dict[str, Spend] = defaultdict(Spend)
        for pair in repos_of.get(cluster_id, ()):
            for layer, spend in layers_of.get(pair, ()):
                by_layer[layer] = by_layer[layer] + spend
        result[cluster_id] = dict(by_layer)
    return result


def fix_rate(fixed: int, ended: int) -> float | None:
    return None if not ended else round(fixed / ended, 4)


@dataclass
class _Members:
    """Each cluster's (migration id, repository id) pairs, its members' attempt ids and members per layer."""

    repos_of: dict[int, set[tuple[int, int]]]
    attempts_of: dict[int, set[int]]
    layers_of: dict[int, dict[str, int]]


def _members(ids: list[int]) -> _Members:
    """What the cost, fix rate and layer of clusters read from their members; one query."""
    found = _Members(
        defaultdict(set), {cluster_id: set() for cluster_id in ids}, {cluster_id: {} for cluster_id in ids}
    )
    rows = ClusterMember.objects.filter(cluster_id__in=ids).values_list(
        "cluster_id", "migration_id", "repository_id", "attempt_id", "attempt__layer"
    )
    for cluster_id, migration_id, repository_id, attempt_id, layer in rows:
        found.repos_of[cluster_id].add((migration_id, repository_id))
        found.attempts_of[cluster_id].add(attempt_id)
        if layer:  # blank while an attempt is still running
            layers = found.layers_of[cluster_id]
            layers[layer] = layers.get(layer, 0) + 1
    return found


def _fix_rates(ids: list[int]) -> dict[int, float | None]:
    members = ClusterMember.objects.filter(cluster_id__in=ids)
    counts = _fix_rate_reader[0](ids, members) if _fix_rate_reader else {}
    return {cluster_id: fix_rate(*counts.get(cluster_id, (0, 0))) for cluster_id in ids}


def cluster_fix_rates(*, cluster_ids: list[int]) -> dict[int, float | None]:
    """cluster id -> share of its ended rerun items that were fixed, None before any; one or two queries."""
    return _fix_rates(list(dict.fromkeys(cluster_ids))) if cluster_ids else {}


# A tie between layers goes to the one listed first: a failure the agent may have caused outranks the others.
LAYER_PRECEDENCE = ("agent", "infrastructure", "pre-existing", "unverifiable", "verified")


def main_layer(counts: dict[str, int]) -> str | None:
    """The layer most members are in, ties broken by LAYER_PRECEDENCE; None when there are none."""
    if not counts:
        return None
    rank = {layer: i for i, layer in enumerate(LAYER_PRECEDENCE)}
    return min(counts, key=lambda layer: (-counts[layer], rank.get(layer, len(rank)), layer))


def cluster_spends(*, cluster_ids: list[int], kept: dict[int, ClusterCounts] | None = None) -> dict[int, dict]:
    """cluster id -> {usd, tokens, agent_seconds} from the kept counts; one query (none when `kept` is given)."""
    ids = list(cluster_ids)
    kept = cluster_counts_many(cluster_ids=ids) if kept is None else kept
    price = default_price()
    return {cluster_id: kept_spend(kept[cluster_id], price).as_json() for cluster_id in ids}


def cluster_costs(*, cluster_ids: list[int], kept: dict[int, ClusterCounts] | None = None) -> dict[int, dict]:
    """cluster id -> {"cost": {usd, tokens, agent_seconds}, "fix_rate": float | None, "layer", "layers"}; two or
    three queries for any page (kept counts, the reruns' fix counts and, when reruns started from members' attempts,
    which clusters those attempts are in)."""
    ids = list(cluster_ids)
    if not ids:
        return {}
    kept = cluster_counts_many(cluster_ids=ids) if kept is None else kept
    rates = _fix_rates(ids) if _fix_rate_reader else dict.fromkeys(ids)
    price = default_price()
    result = {}
    for cluster_id in ids:
        counts = kept[cluster_id]
        result[cluster_id] = {
            "cost": kept_spend(counts, price).as_json(),
            "fix_rate": rates[cluster_id],
            "layer": main_layer(counts.layers),
            "layers": dict(counts.layers),
        }
    return result


def expected_rerun_cost(*, migration_id: int, repository_ids: list[int]) -> Decimal | None:
    """Mean cost of one attempt of these repositories times their number; None when no attempt has a cost."""
    if not repository_ids:
        return None
    spends = _spend_by_repository({(migration_id, r) for r in repository_ids})
    total = sum(spends.values(), Spend())
    if total.usd is None or not total.priced_attempts:
        return None
    return total.usd / total.priced_attempts * len(repository_ids)
