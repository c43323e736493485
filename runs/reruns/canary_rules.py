"""Canary rules: how large a canary is, which repositories it takes, and whether it may expand.

Pure: no database access and no model imports. Outcome values are those of `runs.reruns.outcomes`.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass

from runs.reruns import outcomes

# Far above any batch (RERUN_MAX_BATCH); a larger size is a mistake, not a wish for the whole selection.
MAX_SIZE = 1_000_000
CANARY_FIELDS = ("size", "fraction", "min_fixed", "max_new_cluster_share")
# A canary item whose outcome is one of these may still change: the verdict waits for it.
UNSETTLED = (outcomes.PENDING, outcomes.WAITING, outcomes.HELD)


class CanaryInvalid(ValueError):
    """The canary asked for cannot be run; the message says which value is wrong and why."""


@dataclass(frozen=True)
class CanarySpec:
    """A canary request: `size` repositories or a `fraction` of the selection, and when it may expand."""

    size: int | None
    fraction: float | None
    min_fixed: float
    max_new_cluster_share: float

    @property
    def requested(self) -> dict:
        return {"size": self.size} if self.size is not None else {"fraction": self.fraction}


def _number(raw: dict, key: str) -> float | None:
    value = raw.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise CanaryInvalid(f"canary {key} must be a number")
    return float(value)


def canary_spec_parse(raw, *, default_max_new_cluster_share: float) -> CanarySpec:
    """The canary of a request body's `canary` object; raises CanaryInvalid naming the wrong value."""
    if not isinstance(raw, dict):
        raise CanaryInvalid('canary must be an object: {"size": n} or {"fraction": f}, with "min_fixed"')
    unknown = sorted(set(raw) - set(CANARY_FIELDS))
    if unknown:
        raise CanaryInvalid(f"unknown canary field {unknown[0][:40]!r}; allowed: {', '.join(CANARY_FIELDS)}")
    size, fraction = raw.get("size"), _number(raw, "fraction")
    if size is not None and fraction is not None:
        raise CanaryInvalid("give the canary a size or a fraction, not both")
    if size is None and fraction is None:
        raise CanaryInvalid("the canary needs a size (repositories) or a fraction of the selection")
    if size is not None and (isinstance(size, bool) or not isinstance(size, int) or not 1 <= size <= MAX_SIZE):
        raise CanaryInvalid(f"canary size must be a whole number from 1 to {MAX_SIZE}")
    if fraction is not None and not 0 < fraction <= 1:
        raise CanaryInvalid("canary fraction must be above 0 and at most 1")
    min_fixed = _number(raw, "min_fixed")
    if min_fixed is None:
        raise CanaryInvalid("the canary needs min_fixed: the share of it that must be fixed (0 to 1)")
    if not 0 <= min_fixed <= 1:
        raise CanaryInvalid("canary min_fixed must be between 0 and 1")
    share = _number(raw, "max_new_cluster_share")
    share = default_max_new_cluster_share if share is None else share
    if not 0 <= share <= 1:
        raise CanaryInvalid("canary max_new_cluster_share must be between 0 and 1")
    return CanarySpec(size=size, fraction=fraction, min_fixed=min_fixed, max_new_cluster_share=share)


def canary_size_for(total: int, spec: CanarySpec) -> int:
    """How many of `total` selected repositories the canary takes: never more than all, never fewer than one."""
    if spec.size is not None:
        wanted = spec.size
    else:
        # A tolerance so that 0.3 of 10 is 3, not 4 by float rounding.
        wanted = math.ceil((spec.fraction or 0) * total - 1e-9)
    return max(1, min(total, wanted))


def _rank(name: str) -> str:
    return hashlib.sha256(name.encode("utf-8")).hexdigest()


def canary_choose(candidates: list[tuple[str, int | None]], size: int) -> list[str]:
    """The `size` repositories to run first, from (name, source cluster) pairs.

    Deterministic and spread: each source cluster gets its share of the canary (largest remainders,
    ties to the larger cluster), and within a cluster the repositories come in the order of the hash
    of their name, so the same selection always gives the same canary whatever order it came in.
    """
    groups: dict[int | None, list[str]] = {}
    for name, cluster in candidates:
        groups.setdefault(cluster, []).append(name)
    total = sum(len(names) for names in groups.values())
    size = max(0, min(size, total))
    order = sorted(groups, key=lambda c: (-len(groups[c]), c is None, c or 0))
    quotas = {c: size * len(groups[c]) // total for c in order} if total else {}
    leftover = size - sum(quotas.values())
    by_remainder = sorted(order, key=lambda c: (-((size * len(groups[c])) % total), order.index(c)))
    for cluster in by_remainder[:leftover]:
        quotas[cluster] += 1
    chosen: list[str] = []
    for cluster in order:
        chosen += sorted(groups[cluster], key=_rank)[: quotas[cluster]]
    return sorted(chosen, key=_rank)


@dataclass(frozen=True)
class CanaryResult:
    """One canary item once settled: its outcome, the cluster it failed in before and the one it fails in now."""

    outcome: str
    source_cluster: int | None
    result_cluster: int | None


@dataclass(frozen=True)
class Verdict:
    """Expand, or pause with a reason a person can read."""

    expand: bool
    reason: str
    fixed: int
    ran: int
    new_cluster: int | None = None
    new_cluster_items: int = 0


def canary_settled(outcome_values: list[str]) -> bool:
    return bool(outcome_values) and not any(value in UNSETTLED for value in outcome_values)


def canary_verdict(
    results: list[CanaryResult],
    *,
    min_fixed: float,
    max_new_cluster_share: float,
    titles: dict[int, str] | None = None,
) -> Verdict:
    """Expand when at least `min_fixed` of the canary is fixed and no single new cluster holds more than
    `max_new_cluster_share` of it; a new cluster is one the canary lands in that none of it was in before.

    Cancelled items did not run and are left out; every other outcome that is not `fixed` counts against it.
    """
    ran = [r for r in results if r.outcome != outcomes.CANCELLED]
    if not ran:
        return Verdict(expand=False, reason="no canary repository ran: every one was cancelled", fixed=0, ran=0)
    fixed = sum(r.outcome == outcomes.FIXED for r in ran)
    before = {r.source_cluster for r in results if r.source_cluster is not None}
    landed: dict[int, int] = {}
    for r in ran:
        if r.outcome == outcomes.NEW_FAILURE and r.result_cluster is not None and r.result_cluster not in before:
            landed[r.result_cluster] = landed.get(r.result_cluster, 0) + 1
    reasons = []
    if fixed < min_fixed * len(ran) - 1e-9:
        reasons.append(f"{fixed} of {len(ran)} fixed, below {_percent(min_fixed)}")
    worst, worst_n = None, 0
    if landed:
        worst, worst_n = min(landed.items(), key=lambda pair: (-pair[1], pair[0]))
        if worst_n > max_new_cluster_share * len(ran) + 1e-9:
            title = (titles or {}).get(worst, f"cluster {worst}")
            reasons.append(f"{worst_n} of {len(ran)} landed in new cluster '{title}'")
    return Verdict(
        expand=not reasons,
        reason="; ".join(reasons),
        fixed=fixed,
        ran=len(ran),
        new_cluster=worst,
        new_cluster_items=worst_n,
    )


def _percent(share: float) -> str:
    text = f"{share * 100:.1f}".rstrip("0").rstrip(".")
    return f"{text}%"
