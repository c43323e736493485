"""Pull request URLs and GitHub Enterprise endpoints."""

from __future__ import annotations

from urllib.parse import urlparse

from django.conf import settings


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


def github_web_url() -> str:
    """Where the configured GitHub serves its pages: `GITHUB_WEB_URL`, else derived from `GITHUB_API_URL`.

    `https://api.github.com` and any other API address that is not a GitHub Enterprise Server one
    (a proxy, the demo's loopback fake) stand for github.com; `https://host/api/v3` stands for `https://host`.
    """
    explicit = (getattr(settings, "GITHUB_WEB_URL", "") or "").strip().rstrip("/")
    if explicit:
        return explicit
    api = urlparse((settings.GITHUB_API_URL or "").strip())
    if api.scheme in {"http", "https"} and api.netloc and api.path.rstrip("/").endswith("/api/v3"):
        return f"{api.scheme}://{api.netloc}"
    if api.netloc.lower().startswith("api.") and api.netloc.lower() != "api.github.com":
        return f"{api.scheme}://{api.netloc[len('api.') :]}"  # GitHub Enterprise Cloud: api.<tenant>.ghe.com
    return "https://github.com"


def pr_url_for_repository(url: str, *, repo: str, web_url: str) -> str:
    """The canonical web URL of a pull request of `repo` on the GitHub at `web_url`; ValueError says why not.

    Only `<web_url>/<owner>/<name>/pull/<number>` (with any trailing page such as `/files`, a query or a
    fragment) is accepted, and only when `<owner>/<name>` is `repo` (GitHub compares names case-blind).
    """
    parsed = urlparse(url.strip())
    home = urlparse(web_url)
    if parsed.scheme not in {"http", "https"} or not parsed.netloc:
        raise ValueError("is not an http(s) URL")
    if parsed.username or parsed.password:
        raise ValueError("carries credentials")
    if parsed.netloc.lower() != home.netloc.lower():
        raise ValueError(f"is on {parsed.netloc[:100]!r}, not on the configured GitHub {home.netloc!r}")
    parts = [part for part in parsed.path.split("/") if part]
    number = parts[3] if len(parts) >= 4 and parts[2] == "pull" else ""
    if not (number.isascii() and number.isdigit() and len(number) <= 9 and int(number) > 0):
        raise ValueError("is not a pull request URL (<owner>/<name>/pull/<number>)")
    named = f"{parts[0]}/{parts[1]}"
    if named.lower() != repo.lower():
        raise ValueError(f"names a pull request of {named[:200]!r}, not of the trace's repository {repo!r}")
    return f"{home.scheme}://{home.netloc}/{repo}/pull/{int(number)}"
