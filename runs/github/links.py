"""Pull request URLs and GitHub Enterprise endpoints."""

from __future__ import annotations

from urllib.parse import urlparse


def parse_pr_url(url: str) -> tuple[str, str, int]:
    """(owner, repo, number) from a pull request's web or API URL, on github.com or a GitHub Enterprise host."""
    parsed = urlparse(url.strip())
    if parsed.scheme not in {"http", "https"} or not parsed.netloc:
        raise ValueError(f"not a pull request URL: {url!r}")
    parts = [part for part in parsed.path.split("/") if part]
    if parts[:2] == ["api", "v3"]:
        parts = parts[2:]
    if parts[:1] == ["repos"]:
        parts = parts[1:]
    if len(parts) < 4 or parts[2] not in {"pull", "pulls"} or not parts[3].isdigit():
        raise ValueError(f"not a pull request URL: {url!r}")
    return parts[0], parts[1], int(parts[3])


def graphql_url_for(base_url: str) -> str:
    """GraphQL endpoint for a REST base URL: `{base}/graphql`, or `{host}/api/graphql` on GitHub Enterprise Server."""
    base = base_url.rstrip("/")
    if base.endswith("/api/v3"):
        return base[: -len("/api/v3")] + "/api/graphql"
    return base + "/graphql"
