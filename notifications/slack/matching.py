"""Match a team to the Slack channel where its nudges should go, from names alone (pure, deterministic)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher
from typing import Protocol

from notifications.ownership.rules import TeamInfo

DEFAULT_THRESHOLD = 0.7

PREFIXES = ("team-", "squad-", "tribe-")
# Suffixes that still name the team's own channel.
PLAIN_SUFFIXES = ("-dev", "-eng", "-team")
# Suffixes of bot and alert channels: people rarely read a nudge there.
NOISY_SUFFIXES = ("-alerts", "-notifications", "-notify", "-bots", "-ci", "-oncall")

EXACT_SCORE = 1.0
SIMILAR_WEIGHT = 0.85
CONTAINED_SCORE = 0.75
AFFIX_PENALTY = 0.02
NOISY_PENALTY = 0.2
PRIVATE_PENALTY = 0.05
ARCHIVED_PENALTY = 0.5


class ChannelLike(Protocol):
    id: str
    name: str
    is_private: bool
    is_archived: bool
    num_members: int


@dataclass(frozen=True)
class Candidate:
    channel_id: str
    channel_name: str
    score: float
    reason: str


@dataclass(frozen=True)
class NormalisedName:
    key: str
    stripped: tuple[str, ...]
    noisy: bool

    @property
    def tokens(self) -> frozenset[str]:
        return frozenset(self.key.split("-")) if self.key else frozenset()


def normalise(name: str) -> NormalisedName:
    """Lower-case, unify separators and strip team prefixes and channel suffixes."""
    key = re.sub(r"[^a-z0-9]+", "-", name.lower().lstrip("#")).strip("-")
    stripped: list[str] = []
    noisy = False
    changed = True
    while changed:
        changed = False
        for prefix in PREFIXES:
            if key.startswith(prefix) and len(key) > len(prefix):
                key, changed = key[len(prefix) :], True
                stripped.append(prefix)
        for suffix in PLAIN_SUFFIXES + NOISY_SUFFIXES:
            if key.endswith(suffix) and len(key) > len(suffix):
                key, changed = key[: -len(suffix)], True
                stripped.append(suffix)
                noisy = noisy or suffix in NOISY_SUFFIXES
    return NormalisedName(key=key, stripped=tuple(stripped), noisy=noisy)


def team_keys(team: TeamInfo) -> list[NormalisedName]:
    """Distinct normalised forms of a team's slug, display name and aliases."""
    seen: dict[str, NormalisedName] = {}
    for raw in (team.slug, team.name, *team.aliases):
        if raw and raw.strip():
            norm = normalise(raw)
            if norm.key:
                seen.setdefault(norm.key, norm)
    return list(seen.values())


def _similarity(team: NormalisedName, channel: NormalisedName) -> tuple[float, str]:
    if team.key == channel.key:
        return EXACT_SCORE, f"same name once normalised ({channel.key})"
    overlap = len(team.tokens & channel.tokens) / len(team.tokens | channel.tokens)
    ratio = SequenceMatcher(None, team.key, channel.key).ratio()
    score = SIMILAR_WEIGHT * max(overlap, ratio)
    reason = f"similar to {team.key!r} (token overlap {overlap:.2f}, string similarity {ratio:.2f})"
    if team.tokens and team.tokens <= channel.tokens and score < CONTAINED_SCORE:
        score = CONTAINED_SCORE
        reason = f"contains every word of {team.key!r}"
    return score, reason


def score_channel(team: TeamInfo, channel: ChannelLike, *, keys: Sequence[str] | None = None) -> Candidate:
    """Score one channel for a team, with the reason in words (`keys`: the team's keys, when known)."""
    norm = normalise(channel.name)
    best_score, best_reason = 0.0, "no similarity"
    for key in team_keys(team) if keys is None else keys:
        score, reason = _similarity(key, norm)
        if score > best_score:
            best_score, best_reason = score, reason
    reasons = [best_reason]
    penalties = 0.0
    if norm.stripped:
        penalties += AFFIX_PENALTY * len(norm.stripped)
    if norm.noisy:
        penalties += NOISY_PENALTY
        reasons.append("alerts/bot channel")
    if channel.is_private:
        penalties += PRIVATE_PENALTY
        reasons.append("private")
    if channel.is_archived:
        penalties += ARCHIVED_PENALTY
        reasons.append("archived")
    score = round(max(0.0, best_score - penalties), 4)
    return Candidate(channel_id=channel.id, channel_name=channel.name, score=score, reason="; ".join(reasons))


def match_channels(
    team: TeamInfo, channels: Iterable[ChannelLike], *, limit: int = 5, min_score: float = 0.3
) -> list[Candidate]:
    """Best channels for a team, highest score first (ties: more members, then name, then id)."""
    scored = []
    keys = team_keys(team)
    for channel in channels:
        candidate = score_channel(team, channel, keys=keys)
        if candidate.score >= min_score:
            scored.append((candidate, getattr(channel, "num_members", 0) or 0))
    scored.sort(key=lambda pair: (-pair[0].score, -pair[1], pair[0].channel_name, pair[0].channel_id))
    return [candidate for candidate, _ in scored[:limit]]


def choose_channel(candidates: Sequence[Candidate], *, threshold: float = DEFAULT_THRESHOLD) -> Candidate | None:
    """The top candidate when confident enough; None sends the team to the unowned queue rather than guessing."""
    if not candidates:
        return None
    best = max(candidates, key=lambda c: c.score)
    return best if best.score >= threshold else None


def resolve_explicit_channel(value: str | None, channels: Iterable[ChannelLike]) -> ChannelLike | None:
    """Find the channel named by an explicit mapping: a channel id (C…/G…) or a name with or without '#'."""
    if not value or not value.strip():
        return None
    wanted = value.strip()
    channels = list(channels)
    by_id = next((c for c in channels if c.id == wanted), None)
    if by_id is not None:
        return by_id
    name = wanted.lstrip("#").strip().lower()
    return next((c for c in channels if c.name.lower() == name), None)
