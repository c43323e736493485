"""The notifications app's models, defined in its domain packages and loaded here for Django."""

from notifications.nudges.models import Nudge, TeamSnooze
from notifications.ownership.models import OwnershipOverride, RepositoryOwnership
from notifications.slack.models import DirectorySyncRun, SlackChannel, TeamChannel
from notifications.teams.models import (
    EscalatedPullRequest,
    TeamDigest,
    TeamDigestFollowUp,
    TeamEscalation,
    TeamInboxSettings,
)

__all__ = [
    "OwnershipOverride",
    "RepositoryOwnership",
    "SlackChannel",
    "DirectorySyncRun",
    "TeamChannel",
    "TeamSnooze",
    "Nudge",
    "TeamInboxSettings",
    "TeamDigest",
    "TeamDigestFollowUp",
    "TeamEscalation",
    "EscalatedPullRequest",
]
