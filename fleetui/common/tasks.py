"""The one retry convention of every Celery task that calls a vendor: named transient errors, backoff, jitter."""

import random

from fleetui.common.errors import RateLimitedError, TransientAPIError

MAX_RETRIES = 6
BACKOFF_BASE_SECONDS = 5.0
BACKOFF_CAP_SECONDS = 600.0

# Options for a task that calls a vendor API: only transient errors are retried, with exponential backoff and
# jitter; acks_late because each such task claims its row before the side effect.
TRANSIENT_RETRY = {
    "bind": True,
    "acks_late": True,
    "ignore_result": True,
    "autoretry_for": (TransientAPIError,),
    "retry_backoff": int(BACKOFF_BASE_SECONDS),
    "retry_backoff_max": int(BACKOFF_CAP_SECONDS),
    "retry_jitter": True,
    "max_retries": MAX_RETRIES,
}


def backoff_countdown(
    retries: int,
    *,
    base: float = BACKOFF_BASE_SECONDS,
    cap: float = BACKOFF_CAP_SECONDS,
    rng: random.Random | None = None,
) -> float:
    """Exponential backoff with jitter, so an outage is not hit by every waiting task at once."""
    rng = rng or random.Random()
    return min(cap, base * 2**retries) * rng.uniform(0.5, 1.5)


def rate_limited_retry(task, exc: RateLimitedError, *, default_wait: float = 60.0):
    """Retry after the wait the vendor advised, plus jitter so workers do not return in lockstep."""
    wait = exc.retry_after if exc.retry_after is not None else default_wait
    countdown = wait + random.uniform(0, max(1.0, wait / 10))
    return task.retry(exc=exc, countdown=countdown)
