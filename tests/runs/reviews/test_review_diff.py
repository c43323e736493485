"""A queued pull request's diff: read from GitHub's files endpoint (the fake), escaped, capped, and cached."""

import pytest
from django.core.cache import cache
from django.urls import reverse

from fleetui.common.roles import REVIEWER, VIEWER
from runs.demo.payloads import payload
from runs.github.client import GitHubClient, PullFile
from runs.reviews import diffs
from runs.reviews.diffs import pull_diff_from_files
from tests.runs.reviews.queue_support import HTMX, login, queued_pr

pytestmark = pytest.mark.django_db


@pytest.fixture
def github(settings, fake_github):
    settings.GITHUB_API_URL = fake_github.url
    cache.clear()
    yield fake_github
    cache.clear()


def diff_entry(filename: str, patch: str | None, **fields) -> dict:
    """One item of `GET /repos/{owner}/{repo}/pulls/{n}/files`, shaped like the fixture GitHub's schema describes."""
    entry = dict(payload("github/rest/pulls.list-files.json")[0])
    entry.update({"filename": filename, "status": "modified", **fields})
    if patch is None:
        entry.pop("patch", None)
    else:
        entry["patch"] = patch
    return entry


def test_the_files_fixture_has_the_fields_github_documents_for_a_diff_entry():
    required = {"sha", "filename", "status", "additions", "deletions", "changes", "blob_url", "raw_url", "contents_url"}
    statuses = {"added", "removed", "modified", "renamed", "copied", "changed", "unchanged"}
    files = payload("github/rest/pulls.list-files.json")
    assert files and all(required <= set(item) for item in files)
    assert all(item["status"] in statuses for item in files)
    assert all(item["changes"] == item["additions"] + item["deletions"] for item in files)
    assert any("previous_filename" in item for item in files if item["status"] == "renamed")
    assert any("patch" not in item for item in files)  # GitHub leaves the patch out of binary files


def test_the_client_lists_a_pull_requests_files_with_their_patches(fake_github):
    fake_github.add_pull("acme", "svc", 3, draft=True)
    files = GitHubClient(base_url=fake_github.url).list_pull_files("acme", "svc", 3)
    assert [f.filename for f in files][:2] == ["pom.xml", "src/main/java/com/example/orders/OrderService.java"]
    renamed = next(f for f in files if f.status == "renamed")
    assert renamed.previous_filename == ".github/workflows/ci.yml"
    assert next(f for f in files if f.filename.endswith(".png")).patch is None
    assert files[0].blob_url.startswith("https://github.com/acme/svc/blob/")
    [request] = fake_github.requests_to("/pulls/3/files")
    assert request.query["per_page"] == ["100"]


def test_the_inline_diff_shows_each_file_escaped_with_its_added_and_removed_lines(client, github):
    login(client, VIEWER)
    pr = queued_pr("acme/svc", 3, fake=github)
    github.set_files(
        "acme",
        "svc",
        3,
        [
            diff_entry("src/App.java", "@@ -1,2 +1,2 @@\n-<script>alert(1)</script>\n+safe();\n context", additions=1),
            diff_entry("logo.png", None, additions=0, deletions=0),
        ],
    )

    response = client.get(reverse("review-diff", args=[pr.pk]), **HTMX)

    body = response.content.decode()
    assert "<html" not in body  # the partial alone, for the row
    assert "<script>alert(1)</script>" not in body
    assert '<span class="pl pl-del">-&lt;script&gt;alert(1)&lt;/script&gt;</span>' in body
    assert '<span class="pl pl-add">+safe();</span>' in body
    assert '<span class="pl pl-hunk">@@ -1,2 +1,2 @@</span>' in body
    assert "GitHub shows no patch for this file" in body
    assert "https://github.com/acme/svc/pull/3/files" in body


def test_without_javascript_the_diff_is_a_page_of_its_own_with_the_decision_forms(client, github):
    login(client, REVIEWER)
    pr = queued_pr("acme/svc", 3, fake=github)
    body = client.get(reverse("review-diff", args=[pr.pk])).content.decode()
    assert "<html" in body and "pom.xml" in body and "Looks complete for acme/svc." in body
    assert reverse("review-approve", args=[pr.pk]) in body
    assert reverse("review-request-changes", args=[pr.pk]) in body


def test_a_viewer_reads_the_diff_page_but_is_told_deciding_needs_the_reviewer_role(client, github):
    login(client, VIEWER)
    pr = queued_pr("acme/svc", 3, fake=github)
    body = client.get(reverse("review-diff", args=[pr.pk])).content.decode()
    assert "pom.xml" in body and reverse("review-approve", args=[pr.pk]) not in body
    assert "need the <strong>reviewer</strong> role" in body


def test_a_github_error_shows_in_the_diff_with_a_link_to_github(client, github):
    login(client, VIEWER)
    pr = queued_pr("acme/not-on-github", 9)  # the fake does not know it: 404
    body = client.get(reverse("review-diff", args=[pr.pk]), **HTMX).content.decode()
    assert "GitHub did not send the diff" in body and "404" in body
    assert "https://github.com/acme/not-on-github/pull/9/files" in body


def test_the_diff_is_read_once_per_head_commit(client, github):
    login(client, VIEWER)
    pr = queued_pr("acme/svc", 3, fake=github, head_sha="abc123")
    for _ in range(3):
        assert b"pom.xml" in client.get(reverse("review-diff", args=[pr.pk]), **HTMX).content
    assert len(github.requests_to("/pulls/3/files")) == 1
    pr.head_sha = "def456"
    pr.save()
    client.get(reverse("review-diff", args=[pr.pk]), **HTMX)
    assert len(github.requests_to("/pulls/3/files")) == 2


def file_with(lines: int, name: str = "big.txt") -> PullFile:
    patch = "\n".join(["@@ -1 +1 @@"] + [f"+line {i}" for i in range(lines)])
    return PullFile(name, "modified", lines, 0, patch, None, "https://github.com/acme/svc/blob/x/" + name)


def test_the_diff_is_capped_per_file_in_all_and_in_files(monkeypatch):
    one = pull_diff_from_files([file_with(diffs.MAX_FILE_LINES + 50)])
    assert len(one.files[0].lines) == diffs.MAX_FILE_LINES and one.files[0].hidden_lines == 51

    many = pull_diff_from_files([file_with(200, f"f{i}.txt") for i in range(diffs.MAX_FILES + 5)])
    assert len(many.files) == diffs.MAX_FILES and many.more_files == 5
    assert sum(len(f.lines) for f in many.files) == diffs.MAX_LINES
    assert many.additions == 200 * (diffs.MAX_FILES + 5)

    long_line = pull_diff_from_files([PullFile("a", "added", 1, 0, "+" + "x" * 5000, None, "")])
    assert len(long_line.files[0].lines[0].text) <= diffs.MAX_LINE_LENGTH + 2

    full_page = pull_diff_from_files([file_with(1, f"f{i}") for i in range(100)])
    assert full_page.maybe_more is True


def test_the_queue_row_links_to_its_diff_page_and_holds_a_place_for_the_inline_diff(client):
    login(client, VIEWER)
    pr = queued_pr("acme/svc", 3)
    body = client.get(reverse("reviews")).content.decode()
    assert f'href="{reverse("review-diff", args=[pr.pk])}" data-diff-toggle aria-controls="diff-{pr.pk}"' in body
    assert f'<tr id="diff-{pr.pk}" class="diff-row" hidden>' in body
