"""The ETag stores: what they keep, how the database one encodes answers, and what it forgets."""

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from runs.github import codec
from runs.github.etags import DatabaseETagStore, MemoryETagStore, Page, cache_key, github_etags_prune
from runs.github.models import GitHubETag
from runs.github.types import CheckRun, CombinedStatus, CommitStatus, PullInfo, Review

WHEN = datetime(2024, 5, 1, 12, 30, tzinfo=UTC)


def pull_info() -> PullInfo:
    return PullInfo(
        owner="org", repo="svc", number=7, state="open", draft=True, mergeable=None, mergeable_state=None,
        head_sha="a" * 40, head_ref="migration", base_ref="main", title="Java 21", html_url="https://x/7",
        node_id="PR_1", updated_at=WHEN, merged_at=None, closed_at=None, etag='W/"1"',
    )  # fmt: skip


def test_every_answer_the_client_parses_comes_back_equal_from_its_encoding():
    values = [
        pull_info(),
        [Review(id=1, user="rita", state="APPROVED", submitted_at=WHEN, commit_id="c", html_url="h")],
        [CheckRun(1, "build", "completed", None, "a", "h", "d", "actions", WHEN, None)],
        CombinedStatus(state="success", sha="a", total_count=1, statuses=[CommitStatus("ci", "success", "", "")]),
        "CODEOWNERS text",
        None,
        [],
    ]
    for value in values:
        assert codec.decode(codec.encode(value)) == value


def test_a_value_the_store_cannot_encode_is_refused():
    with pytest.raises(TypeError):
        codec.encode(object())


def test_the_key_holds_the_query_sorted_so_each_page_and_query_has_its_own_entry():
    assert cache_key("u", {"per_page": 100, "filter": "latest"}) == "u?filter=latest&per_page=100"
    assert cache_key("u?page=2", None) == "u?page=2"


def test_the_memory_store_drops_the_least_recently_used_entry_past_its_size():
    store = MemoryETagStore(size=2)
    for key in ("a", "b"):
        store.put(key, key, Page(value=key, etag=key, next_url=None))
    store.touch("a")
    store.put("c", "c", Page(value="c", etag="c", next_url=None))
    assert (store.get("a") is not None, store.get("b"), len(store)) == (True, None, 2)


@pytest.mark.django_db
def test_the_database_store_replaces_an_entry_and_forgets_those_not_validated_for_a_month():
    store = DatabaseETagStore()
    store.put("u", "u", Page(value=[pull_info()], etag='W/"1"', next_url="u?page=2", last_modified="Wed"))
    store.put("u", "u", Page(value=[pull_info()], etag='W/"2"', next_url=None))
    store.put("old", "old", Page(value=None, etag='W/"0"', next_url=None))
    GitHubETag.objects.filter(url="old").update(validated_at=timezone.now() - timedelta(days=31))

    assert github_etags_prune() == 1

    page = DatabaseETagStore().get("u")
    assert (page.etag, page.next_url, page.last_modified, page.value) == ('W/"2"', None, None, [pull_info()])
    assert GitHubETag.objects.count() == 1
