"""A pull request's diff for the review queue: its changed files from GitHub, capped so that one huge change cannot
swamp the page. The text is GitHub's, so templates show it escaped; nothing here marks it safe."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.conf import settings
from django.core.cache import cache

from fleetui.common.errors import APIError
from runs.fleet.models import PullRequest
from runs.github.client import GitHubClient, PullFile
from runs.github.links import parse_pr_url

MAX_FILES = 40  # files shown; GitHub's first page of 100 is read
MAX_FILE_LINES = 250  # patch lines shown per file
MAX_LINES = 1200  # patch lines shown in all
MAX_LINE_LENGTH = 400  # characters shown per line
CACHE_SECONDS = 300
UNKNOWN_HEAD_CACHE_SECONDS = 30
# The reviewer waits for this answer: fail fast rather than retry for minutes as the background sync may.
TIMEOUT_SECONDS = 5


@dataclass(frozen=True)
class DiffLine:
    kind: str  # hunk, add, del or context
    text: str


@dataclass
class DiffFile:
    filename: str
    previous_filename: str | None
    status: str
    additions: int
    deletions: int
    url: str
    lines: list[DiffLine] = field(default_factory=list)
    hidden_lines: int = 0  # patch lines left out by the caps
    no_patch: bool = False  # GitHub sends no patch for binary and very large files


@dataclass
class PullDiff:
    files: list[DiffFile] = field(default_factory=list)
    more_files: int = 0  # changed files read but not shown
    maybe_more: bool = False  # GitHub's first page was full: there may be further files
    error: str = ""
    additions: int = 0
    deletions: int = 0


def _kind(line: str) -> str:
    if line.startswith("@@"):
        return "hunk"
    if line.startswith("+"):
        return "add"
    if line.startswith("-"):
        return "del"
    return "context"


def _shorten(line: str) -> str:
    return line if len(line) <= MAX_LINE_LENGTH else line[:MAX_LINE_LENGTH] + " …"


def pull_diff_from_files(files: list[PullFile], *, read_limit: int = 100) -> PullDiff:
    """The capped diff of these files (pure: no GitHub call)."""
    diff = PullDiff(maybe_more=len(files) >= read_limit)
    budget = MAX_LINES
    for item in files:
        diff.additions += item.additions
        diff.deletions += item.deletions
        if len(diff.files) >= MAX_FILES:
            diff.more_files += 1
            continue
        shown = DiffFile(
            filename=item.filename,
            previous_filename=item.previous_filename,
            status=item.status,
            additions=item.additions,
            deletions=item.deletions,
            url=item.blob_url if item.blob_url.startswith("https://") else "",
            no_patch=item.patch is None,
        )
        lines = (item.patch or "").splitlines()
        keep = max(0, min(len(lines), MAX_FILE_LINES, budget))
        shown.lines = [DiffLine(_kind(line), _shorten(line)) for line in lines[:keep]]
        shown.hidden_lines = len(lines) - keep
        budget -= keep
        diff.files.append(shown)
    return diff


def _client() -> GitHubClient:
    return GitHubClient(
        base_url=settings.GITHUB_API_URL,
        token=settings.GITHUB_TOKEN or None,
        timeout=min(settings.GITHUB_TIMEOUT, TIMEOUT_SECONDS),
        max_retries=1,
        max_rate_limit_wait=0,
    )


def pull_request_diff(pull_request: PullRequest, *, client: GitHubClient | None = None) -> PullDiff:
    """The pull request's diff, cached for a few minutes per head commit (errors are not cached: they carry
    the reason, and the next opening asks again)."""
    try:
        owner, repo, number = parse_pr_url(pull_request.url)
    except ValueError:
        return PullDiff(error="This pull request's address is not a GitHub pull request.")
    key = f"reviews:diff:{settings.GITHUB_API_URL}:{owner}/{repo}#{number}@{pull_request.head_sha}"
    cached = cache.get(key)
    if cached is not None:
        return cached
    try:
        files = (client or _client()).list_pull_files(owner, repo, number)
    except APIError as exc:
        return PullDiff(error=f"GitHub did not send the diff: {str(exc)[:300]}")
    diff = pull_diff_from_files(files)
    # Without a known head commit a new push cannot be told apart: keep the diff only briefly.
    cache.set(key, diff, CACHE_SECONDS if pull_request.head_sha else UNKNOWN_HEAD_CACHE_SECONDS)
    return diff
