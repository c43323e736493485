"""The runs app's models, defined in each domain package and loaded here for Django."""

from runs.accounts.models import ApiToken
from runs.fleet.models import (
    FAILED_OUTCOMES,
    Attempt,
    AuditEvent,
    JudgeVerdict,
    Migration,
    Outcome,
    Phase,
    PromptRevision,
    PullRequest,
    Repository,
    RepositoryState,
    Target,
    Team,
    Verdict,
    VerifierResult,
)
from runs.github.models import PullRequestSyncChunk, PullRequestSyncError, PullRequestSyncRun, WebhookDelivery
from runs.imports.models import ImportRun, ImportRunError, ImportWatermark
from runs.reruns.models import ACTIVE_STATES, FINAL_STATES, IN_FLIGHT_STATES, RerunBatch, RerunItem, RerunState
from runs.reviews.models import ReviewDecision, ReviewPattern

__all__ = [
    "ApiToken",
    "Team",
    "Repository",
    "Migration",
    "PromptRevision",
    "Phase",
    "Outcome",
    "FAILED_OUTCOMES",
    "Attempt",
    "VerifierResult",
    "Verdict",
    "JudgeVerdict",
    "RepositoryState",
    "Target",
    "PullRequest",
    "AuditEvent",
    "ImportRun",
    "ImportRunError",
    "ImportWatermark",
    "PullRequestSyncRun",
    "PullRequestSyncChunk",
    "PullRequestSyncError",
    "WebhookDelivery",
    "ReviewPattern",
    "ReviewDecision",
    "RerunState",
    "ACTIVE_STATES",
    "IN_FLIGHT_STATES",
    "FINAL_STATES",
    "RerunBatch",
    "RerunItem",
]
