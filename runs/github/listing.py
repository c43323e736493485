"""Which pull requests a sync may leave alone, and how a run's pull requests are split so repositories stay whole.

A repository holding several tracked pull requests is asked once, conditionally, for its most recently updated
pull request. GitHub answers 304 (free) while no pull request of the repository changed (any change, a push, a
review, a comment, a state change, moves one to the top of that list), so an open pull request refreshed after
that listing was taken is still as stored: the sync reads neither it nor its reviews again, and its CI only while
pending. A repository with a single tracked pull request is read per pull request (as cheap, and it also sees a
mergeability GitHub recomputed without touching the pull request).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from fleetui.common.errors import PermanentAPIError
from runs.fleet.models import PullRequest
from runs.github.client import GitHubClient
from runs.github.links import parse_pr_url

# Tracked pull requests of one repository (in one chunk) from which it is listed instead of read one by one.
LIST_AT = 2


def pull_requests_unchanged(*, client: GitHubClient, pull_requests: Iterable[PullRequest]) -> set[int]:
    """Ids of open pull requests whose repository's listing answered 304 since they were last refreshed."""
    groups: dict[tuple[str, str], list[PullRequest]] = defaultdict(list)
    for pr in pull_requests:
        try:
            owner, repo, _ = parse_pr_url(pr.url)
        except ValueError:
            continue
        groups[(owner, repo)].append(pr)
    unchanged: set[int] = set()
    for (owner, repo), prs in groups.items():
        if len(prs) < LIST_AT:
            continue
        # Listed even when none was refreshed yet: the listing taken now vouches for them at the next sync.
        candidates = [pr for pr in prs if _refreshed_before(pr)]
        try:
            listing = client.pulls_listing(owner, repo)
        except PermanentAPIError:
            continue  # read one by one, which records each pull request's own error
        unchanged.update(pr.pk for pr in candidates if pr.synced_at >= listing.listed_at)
    return unchanged


def _refreshed_before(pr: PullRequest) -> bool:
    # A mergeability still being computed (None) is read again from the pull request itself.
    return bool(pr.state == PullRequest.State.OPEN and pr.etag and pr.synced_at and pr.mergeable is not None)


def split_by_repository(rows: Iterable[tuple[int, int]], slices: int) -> list[list[int]]:
    """Pull request ids, given as (id, repository id), in at most `slices` chunks keeping each repository whole."""
    by_repository: dict[int, list[int]] = {}
    for pk, repository_id in rows:
        by_repository.setdefault(repository_id, []).append(pk)
    chunks: list[list[int]] = [[] for _ in range(max(1, slices))]
    # Largest repositories first, each to the smallest chunk so far: chunks end up about the same size.
    for ids in sorted(by_repository.values(), key=len, reverse=True):
        min(chunks, key=len).extend(ids)
    return [chunk for chunk in chunks if chunk]
