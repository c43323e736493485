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
PLAIN_SUFFIXES = ("-dev", "-eng", "-engineering", "-team")
# Affixes of decoy channels (bots, alerts, announcements, help desks): people rarely read a nudge there,
# so such a channel never outranks the team's own channel, and alone it stays below the threshold.
DECOY_PREFIXES = ("help-", "ask-", "announce-", "fyi-")
DECOY_SUFFIXES = (
    "-announcements",
    "-announce",
    "-alerts",
    "-alert",
    "-notifications",
    "-notify",
    "-bots",
    "-bot",
    "-ci",
    "-oncall",
    "-help",
)
EXACT_SCORE = 1.0
SAME_SCORE = 0.98
SIMILAR_WEIGHT = 0.85
CONTAINED_SCORE = 0.75
AFFIX_PENALTY = 0.02
DECOY_PENALTY = 0.4
PRIVATE_PENALTY = 0.05


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
    raw: str = ""

    @property
    def tokens(self) -> frozenset[str]:
        return frozenset(self.key.split("-")) if self.key else frozenset()


def channel_form(name: str) -> str:
    """A name as a Slack channel name: lower case, spaces, underscores and other separators as '-'."""
    return re.sub(r"[^a-z0-9]+", "-", name.lower().lstrip("#")).strip("-")


def normalise(name: str) -> NormalisedName:
    """Lower-case, unify separators and strip team prefixes, channel suffixes and decoy affixes."""
    raw = channel_form(name)
    key = raw
    stripped: list[str] = []
    noisy = False
    changed = True
    while changed:
        changed = False
        for prefix in PREFIXES + DECOY_PREFIXES:
            if key.startswith(prefix) and len(key) > len(prefix):
                key, changed = key[len(prefix) :], True
                stripped.append(prefix)
                noisy = noisy or prefix in DECOY_PREFIXES
        for suffix in PLAIN_SUFFIXES + DECOY_SUFFIXES:
            if key.endswith(suffix) and len(key) > len(suffix):
                key, changed = key[: -len(suffix)], True
                stripped.append(suffix)
                noisy = noisy or suffix in DECOY_SUFFIXES
    return NormalisedName(key=key, stripped=tuple(stripped), noisy=noisy, raw=raw)


def team_keys(team: TeamInfo) -> list[NormalisedName]:
    """Distinct normalised forms of a team's slug, display name and aliases."""
    seen: dict[str, NormalisedName] = {}
    for raw in (team.slug, team.name, *team.aliases):
        if raw and raw.strip():
            norm = normalise(raw)
            if norm.key:
                seen.setdefault(norm.raw, norm)
    return list(seen.values())


def _similarity(team: NormalisedName, channel: NormalisedName) -> tuple[float, str]:
    if team.raw == channel.raw:
        return EXACT_SCORE, f"exact name ({channel.raw})"
    if team.key == channel.key:
        return SAME_SCORE, f"same name once normalised ({channel.key})"
    overlap = len(team.tokens & channel.tokens) / len(team.tokens | channel.tokens)
    ratio = SequenceMatcher(None, team.key, channel.key).ratio()
    score = SIMILAR_WEIGHT * max(overlap, ratio)
    reason = f"similar to {team.key!r} (token overlap {overlap:.2f}, string similarity {ratio:.2f})"
    if team.tokens and team.tokens <= channel.tokens and score < CONTAINED_SCORE:
        score = CONTAINED_SCORE
        reason = f"contains every word of {team.key!r}"
    return score, reason


def score_channel(team: TeamInfo, channel: ChannelLike, *, keys: Sequence[NormalisedName] | None = None) -> Candidate:
    """Score one channel for a team, with the reason in words (`keys`: the team's keys, when known).

    One mechanism for every channel: name similarity to the team's slug, display name or aliases (an exact
    channel name scores highest), less a small penalty per team affix stripped, a large one for a decoy affix
    (`help-`, `-announcements`, `-alerts`, `-bots`...) and a small one for a private channel. Archived
    channels score 0: they never win.
    """
    if channel.is_archived:
        return Candidate(channel_id=channel.id, channel_name=channel.name, score=0.0, reason="archived")
    norm = normalise(channel.name)
    best_score, best_reason = 0.0, "no similarity"
    for key in team_keys(team) if keys is None else keys:
        score, reason = _similarity(key, norm)
        if score > best_score:
            best_score, best_reason = score, reason
    reasons = [best_reason]
    penalties = 0.0
    if best_score < EXACT_SCORE:
        penalties += AFFIX_PENALTY * len(norm.stripped)
        if norm.noisy:
            penalties += DECOY_PENALTY
            reasons.append("decoy channel (help, announcements, alerts or bots)")
    if channel.is_private:
        penalties += PRIVATE_PENALTY
        reasons.append("private")
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
