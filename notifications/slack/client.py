"""Slack Web API client: channel directory, joining, posting and updating nudge messages."""

from __future__ import annotations

import random
import time
import urllib.error
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler

from fleetui.common.errors import PermanentAPIError, RateLimitedError, TransientAPIError

DEFAULT_BASE_URL = "https://slack.com/api/"

# Minimum seconds between two calls of one method, from Slack's rate-limit tiers:
# Tier 2 (~20/min) for conversations.list, Tier 3 (~50/min) for join/update,
# chat.postMessage is "about one message a second" per channel.
DEFAULT_MIN_INTERVALS: dict[str, float] = {
    "conversations.list": 3.0,
    "conversations.join": 1.2,
    "chat.postMessage": 1.0,
    "chat.update": 1.2,
}

# Slack answers every failure with HTTP 200 and ok:false; these codes mean "try later".
TRANSIENT_ERROR_CODES = frozenset(
    {"ratelimited", "internal_error", "fatal_error", "service_unavailable", "request_timeout"}
)


class TransientSlackError(TransientAPIError):
    """Slack 5xx, timeout or connection failure: retry later."""

    def __init__(self, code: str, message: str = "", *, status: int | None = None) -> None:
        super().__init__(f"{code}: {message}" if message else code, status=status, vendor="Slack")
        self.code = code


class SlackRateLimitedError(TransientSlackError, RateLimitedError):
    """Still answered 429 after the retry handler gave up; retry_after is Slack's advised wait."""

    def __init__(self, message: str = "", *, retry_after: float | None = None) -> None:
        super().__init__("ratelimited", message, status=429)
        # RateLimitedError's initialiser runs inside super() and resets retry_after, so set it last.
        self.retry_after = retry_after


class PermanentSlackError(PermanentAPIError):
    """Slack refused the call (not_in_channel, channel_not_found, missing_scope...): retrying will not help."""

    def __init__(self, code: str, message: str = "", *, needed: str | None = None) -> None:
        super().__init__(f"{code}: {message}" if message else code, vendor="Slack")
        self.code = code
        self.needed = needed


@dataclass(frozen=True)
class Channel:
    id: str
    name: str
    is_private: bool = False
    is_archived: bool = False
    is_member: bool = False
    num_members: int = 0
    topic: str = ""
    purpose: str = ""


@dataclass(frozen=True)
class PostedMessage:
    channel: str
    ts: str


@dataclass
class ChannelListing:
    """What a directory sync learned besides the channels themselves."""

    private_included: bool = False
    missing_scope: str | None = None
    pages: int = 0


class PacedRateLimitRetryHandler(RateLimitErrorRetryHandler):
    """Slack's 429 retry handler, waiting through an injectable sleep so tests need not wait for real."""

    def __init__(self, max_retry_count: int = 2, *, sleep: Callable[[float], None] = time.sleep) -> None:
        super().__init__(max_retry_count=max_retry_count)
        self._sleep = sleep

    def prepare_for_next_attempt(self, *, state, request, response=None, error=None) -> None:
        if response is None:
            raise error  # type: ignore[misc]
        state.next_attempt_requested = True
        retry_after = _retry_after_seconds({k: v[0] if isinstance(v, list) else v for k, v in response.headers.items()})
        # Jitter spreads retries of concurrent workers, as the stock handler does.
        self._sleep((retry_after if retry_after is not None else 1.0) + random.random())
        state.increment_current_attempt()


def _retry_after_seconds(headers: dict[str, Any]) -> float | None:
    for key, value in headers.items():
        if key.lower() == "retry-after":
            try:
                return max(0.0, float(value))
            except (TypeError, ValueError):
                return None
    return None


def _channel_from_payload(item: dict[str, Any]) -> Channel:
    return Channel(
        id=item["id"],
        name=item.get("name") or "",
        is_private=bool(item.get("is_private", False)),
        is_archived=bool(item.get("is_archived", False)),
        is_member=bool(item.get("is_member", False)),
        num_members=int(item.get("num_members") or 0),
        topic=((item.get("topic") or {}).get("value") or ""),
        purpose=((item.get("purpose") or {}).get("value") or ""),
    )


class SlackClient:
    """Thin wrapper over slack_sdk.WebClient returning dataclasses and raising Transient/Permanent errors."""

    def __init__(
        self,
        token: str,
        *,
        base_url: str = DEFAULT_BASE_URL,
        timeout: float = 10,
        max_rate_limit_retries: int = 2,
        min_intervals: dict[str, float] | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._clock = clock
        self._sleep = sleep
        self._min_intervals = dict(DEFAULT_MIN_INTERVALS if min_intervals is None else min_intervals)
        self._last_call: dict[str, float] = {}
        self.rate_limit_handler = PacedRateLimitRetryHandler(max_rate_limit_retries, sleep=sleep)
        # Only 429s are retried here: a connection reset during chat.postMessage may have posted already,
        # so connection failures surface as TransientSlackError and the caller's task decides.
        self.web = WebClient(
            token=token,
            base_url=base_url,
            timeout=timeout,
            retry_handlers=[self.rate_limit_handler],
        )
        self.last_listing = ChannelListing()

    # -- calls -----------------------------------------------------------------------------------

    def _pace(self, method: str) -> None:
        interval = self._min_intervals.get(method, 0.0)
        last = self._last_call.get(method)
        if interval > 0 and last is not None:
            wait = last + interval - self._clock()
            if wait > 0:
                self._sleep(wait)
        self._last_call[method] = self._clock()

    def _call(self, method: str, fn: Callable[..., Any], **kwargs: Any) -> dict[str, Any]:
        self._pace(method)
        try:
            response = fn(**kwargs)
        except SlackApiError as exc:
            raise _map_api_error(method, exc) from exc
        except TimeoutError as exc:
            raise TransientSlackError("timeout", f"{method} timed out") from exc
        except urllib.error.URLError as exc:
            code = "timeout" if isinstance(exc.reason, TimeoutError) else "connection_error"
            raise TransientSlackError(code, f"{method}: {exc.reason}") from exc
        except (ConnectionError, OSError) as exc:
            raise TransientSlackError("connection_error", f"{method}: {exc}") from exc
        return response.data if isinstance(response.data, dict) else {}

    def list_channels(
        self, *, include_private: bool, exclude_archived: bool = True, limit: int = 1000
    ) -> Iterator[Channel]:
        """Yield every channel, following next_cursor; falls back to public channels when groups:read is missing."""
        self.last_listing = listing = ChannelListing(private_included=include_private)
        types = "public_channel,private_channel" if include_private else "public_channel"
        cursor = ""
        while True:
            params: dict[str, Any] = {"types": types, "exclude_archived": exclude_archived, "limit": limit}
            if cursor:
                params["cursor"] = cursor
            try:
                data = self._call("conversations.list", self.web.conversations_list, **params)
            except PermanentSlackError as exc:
                if exc.code == "missing_scope" and include_private and not cursor:
                    listing.private_included = False
                    listing.missing_scope = exc.needed or "groups:read"
                    types = "public_channel"
                    continue
                raise
            listing.pages += 1
            for item in data.get("channels") or []:
                yield _channel_from_payload(item)
            # A page may be empty while a cursor remains; only an empty cursor ends the listing.
            cursor = ((data.get("response_metadata") or {}).get("next_cursor")) or ""
            if not cursor:
                return

    def join_channel(self, channel_id: str) -> Channel:
        """Join a public channel so the bot can post there."""
        data = self._call("conversations.join", self.web.conversations_join, channel=channel_id)
        return _channel_from_payload(data.get("channel") or {"id": channel_id})

    def post_message(
        self, channel_id: str, *, text: str, blocks: list[dict[str, Any]], thread_ts: str | None = None
    ) -> PostedMessage:
        """Post a Block Kit message with its fallback text."""
        kwargs: dict[str, Any] = {"channel": channel_id, "text": text, "blocks": blocks}
        if thread_ts:
            kwargs["thread_ts"] = thread_ts
        # Message text is data: never let Slack turn bare names into mentions or links.
        kwargs["link_names"] = False
        kwargs["unfurl_links"] = False
        data = self._call("chat.postMessage", self.web.chat_postMessage, **kwargs)
        return PostedMessage(channel=data.get("channel") or channel_id, ts=data["ts"])

    def update_message(self, channel_id: str, ts: str, *, text: str, blocks: list[dict[str, Any]]) -> PostedMessage:
        """Replace the text and blocks of a message posted earlier."""
        data = self._call(
            "chat.update", self.web.chat_update, channel=channel_id, ts=ts, text=text, blocks=blocks, link_names=False
        )
        return PostedMessage(channel=data.get("channel") or channel_id, ts=data.get("ts") or ts)

    def get_permalink(self, channel_id: str, ts: str) -> str:
        """Return the web link of a posted message."""
        data = self._call("chat.getPermalink", self.web.chat_getPermalink, channel=channel_id, message_ts=ts)
        return data["permalink"]


def _map_api_error(method: str, exc: SlackApiError) -> TransientSlackError | PermanentSlackError:
    response = exc.response
    status = getattr(response, "status_code", 200)
    data = response.data if isinstance(getattr(response, "data", None), dict) else {}
    code = str(data.get("error") or f"http_{status}")
    if status == 429:
        retry_after = _retry_after_seconds(dict(getattr(response, "headers", {}) or {}))
        return SlackRateLimitedError(f"{method} still rate limited after retries", retry_after=retry_after)
    if status >= 500 or code in TRANSIENT_ERROR_CODES:
        return TransientSlackError(code, f"{method} failed with HTTP {status}", status=status)
    return PermanentSlackError(code, f"{method} refused", needed=data.get("needed"))
