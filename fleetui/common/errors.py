"""Errors raised by every third-party API client, so callers retry or give up the same way for each vendor."""

from __future__ import annotations


class APIError(Exception):
    """A call to a third-party API that did not succeed."""

    def __init__(self, message: str = "", *, status: int | None = None, vendor: str = "") -> None:
        self.message = message
        self.status = status
        self.vendor = vendor
        prefix = f"{vendor} " if vendor else ""
        code = f"HTTP {status}: " if status is not None else ""
        super().__init__(f"{prefix}{code}{message}".strip())


class TransientAPIError(APIError):
    """Worth retrying later: 5xx, timeouts, dropped connections, rate limits."""


class PermanentAPIError(APIError):
    """Retrying the same call will fail again: bad credentials, not found, validation errors."""


class RateLimitedError(TransientAPIError):
    """The vendor asked us to slow down; `retry_after` is the advised wait in seconds (None when unknown)."""

    def __init__(
        self,
        message: str = "",
        *,
        retry_after: float | None = None,
        status: int | None = None,
        vendor: str = "",
    ) -> None:
        self.retry_after = retry_after
        super().__init__(message, status=status, vendor=vendor)
