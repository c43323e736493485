"""What a rerun did for one repository, judged by its new attempt rather than by the runner's exit code.

Pure: no database access and no model imports (a data migration uses it too). The values are those of
`runs.reruns.models.RerunOutcome`.
"""

from __future__ import annotations

PENDING = "pending"
WAITING = "waiting"
FIXED = "fixed"
STILL_FAILING = "still_failing"
NEW_FAILURE = "new_failure"
RUNNER_FAILED = "runner_failed"
NO_ATTEMPT = "no_attempt"
CANCELLED = "cancelled"
HELD = "held"

RUNNER_ACTIVE = ("queued", "dispatched", "running")
PASSING_ATTEMPT_OUTCOMES = ("succeeded", "no_change")


def item_outcome(
    *,
    state: str,
    result_outcome: str | None,
    source_cluster: int | None,
    result_cluster: int | None,
    clustered_since_import: bool,
    looked_for_attempt: bool,
) -> str:
    """The outcome of one rerun item.

    `state` is the runner's state; `result_outcome` the linked new attempt's outcome (None when none is linked);
    `source_cluster` the cluster the repository failed in before, `result_cluster` the one its new attempt is in;
    `clustered_since_import` says a clustering run of the migration finished after the new attempt was imported
    (so an attempt in no cluster is settled, not merely not clustered yet); `looked_for_attempt` says the batch's
    import finished and linking found nothing for the repository.
    """
    if state in RUNNER_ACTIVE:
        return PENDING
    if state == "cancelled":
        return CANCELLED
    if state == "held":
        return HELD
    if state != "succeeded":
        return RUNNER_FAILED
    if result_outcome is None:
        return NO_ATTEMPT if looked_for_attempt else WAITING
    if result_outcome in PASSING_ATTEMPT_OUTCOMES:
        return FIXED
    if result_outcome == "in_progress":
        return WAITING
    if result_cluster is None:
        return NEW_FAILURE if clustered_since_import else WAITING
    if source_cluster is not None and result_cluster == source_cluster:
        return STILL_FAILING
    return NEW_FAILURE
