"""Where the GitHub transport keeps each GET's ETag, Last-Modified and parsed answer: in memory, or in the database.

A 304 answer costs nothing against GitHub's rate limit, but only helps if the answer it confirms is still at hand;
the database store keeps it across restarts and shares it between workers.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from runs.github import codec

# A 304 moves an entry's validated_at on at most this often, so unchanged resources cost no write per sync.
TOUCH_EVERY = timedelta(days=1)
KEEP_FOR = timedelta(days=30)
REMEMBERED_TOUCHES = 50_000


@dataclass(frozen=True)
class Page:
    """One GET's parsed answer, its validators and its `Link: rel="next"` URL."""

    value: Any
    etag: str | None
    next_url: str | None
    last_modified: str | None = None


class ETagStore(Protocol):
    def get(self, key: str) -> Page | None: ...

    def put(self, key: str, url: str, page: Page) -> None: ...

    def touch(self, key: str) -> None: ...


def cache_key(url: str, params: dict[str, Any] | None) -> str:
    """The URL with its query sorted: one entry per resource, per page and per query string."""
    if not params:
        return url
    return url + "?" + "&".join(f"{key}={params[key]}" for key in sorted(params))


class MemoryETagStore:
    """A bounded in-process store (least recently used out first); gone with the process."""

    def __init__(self, size: int = 2048) -> None:
        self.size = size
        self._pages: OrderedDict[str, Page] = OrderedDict()

    def get(self, key: str) -> Page | None:
        return self._pages.get(key)

    def put(self, key: str, url: str, page: Page) -> None:
        if self.size <= 0:
            return
        self._pages[key] = page
        self._pages.move_to_end(key)
        while len(self._pages) > self.size:
            self._pages.popitem(last=False)

    def touch(self, key: str) -> None:
        if key in self._pages:
            self._pages.move_to_end(key)

    def __len__(self) -> int:
        return len(self._pages)


class DatabaseETagStore:
    """Entries in the GitHubETag table, shared by every worker and kept across restarts."""

    def __init__(self) -> None:
        self._validated: dict[str, datetime] = {}

    def get(self, key: str) -> Page | None:
        from runs.github.models import GitHubETag

        row = (
            GitHubETag.objects.filter(key=_digest(key))
            .values("etag", "last_modified", "value", "next_url", "validated_at")
            .first()
        )
        if row is None:
            return None
        self._remember(key, row["validated_at"])
        return Page(
            value=codec.decode(row["value"]),
            etag=row["etag"] or None,
            next_url=row["next_url"] or None,
            last_modified=row["last_modified"] or None,
        )

    def put(self, key: str, url: str, page: Page) -> None:
        from django.utils import timezone

        from runs.github.models import GitHubETag

        try:
            value = codec.encode(page.value)
        except TypeError:
            return  # an answer this store cannot hold is fetched again in full next time
        now = timezone.now()
        row = GitHubETag(
            key=_digest(key),
            url=key,
            etag=(page.etag or "")[:200],
            last_modified=(page.last_modified or "")[:64],
            value=value,
            next_url=page.next_url or "",
            validated_at=now,
        )
        GitHubETag.objects.bulk_create(
            [row],
            update_conflicts=True,
            unique_fields=["key"],
            update_fields=["url", "etag", "last_modified", "value", "next_url", "validated_at"],
        )
        self._remember(key, now)

    def touch(self, key: str) -> None:
        from django.utils import timezone

        from runs.github.models import GitHubETag

        now = timezone.now()
        seen = self._validated.get(key)
        if seen is not None and now - seen < TOUCH_EVERY:
            return
        GitHubETag.objects.filter(key=_digest(key)).update(validated_at=now)
        self._remember(key, now)

    def _remember(self, key: str, when: datetime) -> None:
        if len(self._validated) >= REMEMBERED_TOUCHES:
            self._validated.clear()
        self._validated[key] = when


def github_etags_prune(*, older_than: timedelta = KEEP_FOR) -> int:
    """Forgets entries not validated for `older_than` (old commits' check runs, closed pull requests); how many."""
    from django.utils import timezone

    from runs.github.models import GitHubETag

    deleted, _ = GitHubETag.objects.filter(validated_at__lt=timezone.now() - older_than).delete()
    return deleted


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()
