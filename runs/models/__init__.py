"""The runs app's models, one module per capability."""

from runs.models.core import (
    FAILED_OUTCOMES,
    ApiToken,
    Attempt,
    AuditEvent,
    ImportRun,
    ImportRunError,
    ImportWatermark,
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

__all__ = [
    "Team",
    "Repository",
    "Migration",
    "PromptRevision",
    "Phase",
    "Outcome",
    "Attempt",
    "VerifierResult",
    "Verdict",
    "JudgeVerdict",
    "RepositoryState",
    "Target",
    "PullRequest",
    "ImportRun",
    "ImportRunError",
    "ImportWatermark",
    "AuditEvent",
    "ApiToken",
    "FAILED_OUTCOMES",
]

# Capability modules define their own __all__; their names are part of runs.models too.
from runs.models.github import *  # noqa: E402, F403
from runs.models.github import __all__ as _github_all  # noqa: E402
from runs.models.reruns import *  # noqa: E402, F403
from runs.models.reruns import __all__ as _reruns_all  # noqa: E402

__all__ += _github_all + _reruns_all
