"""Pull requests a nudge may list: open, not a draft, CI known to pass, approved by an internal reviewer."""

from runs.fleet.models import PullRequest
from runs.reviews.models import ReviewDecision
from tests.factories import make_pull_request


def approve(pr: PullRequest) -> ReviewDecision:
    return ReviewDecision.objects.create(
        pull_request=pr,
        attempt=pr.attempt,
        migration=pr.migration,
        decision=ReviewDecision.Decision.APPROVE,
        github_status=ReviewDecision.GitHubStatus.DONE,
    )


def make_ready_pr(attempt, **fields) -> PullRequest:
    """A pull request ready to merge; `approved=False` leaves out the reviewer's approval."""
    approved = fields.pop("approved", True)
    fields.setdefault("draft", False)
    fields.setdefault("checks", "success")
    pr = make_pull_request(attempt, **fields)
    if approved:
        approve(pr)
    return pr
