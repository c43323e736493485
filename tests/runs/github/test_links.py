"""Which GitHub pull requests live on, and the canonical URL of a repository's own pull request."""

import pytest

from runs.github.links import github_web_url, pr_url_for_repository


@pytest.mark.parametrize(
    ("api_url", "web_url", "expected"),
    [
        ("https://api.github.com", "", "https://github.com"),
        ("https://ghe.acme.test/api/v3", "", "https://ghe.acme.test"),
        ("https://ghe.acme.test/api/v3/", "", "https://ghe.acme.test"),
        ("https://api.acme.ghe.com", "", "https://acme.ghe.com"),
        ("http://127.0.0.1:8765", "", "https://github.com"),
        ("http://127.0.0.1:8765", "https://code.acme.test/", "https://code.acme.test"),
    ],
)
def test_the_web_address_follows_the_settings(settings, api_url, web_url, expected):
    settings.GITHUB_API_URL = api_url
    settings.GITHUB_WEB_URL = web_url

    assert github_web_url() == expected


def test_a_pull_request_url_of_the_repository_is_made_canonical():
    url = "http://GitHub.com/Acme/Api/pull/0042/files?w=1#diff"

    assert (
        pr_url_for_repository(url, repo="acme/api", web_url="https://github.com")
        == "https://github.com/acme/api/pull/42"
    )


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("https://github.com/acme/other/pull/1", "names a pull request of 'acme/other'"),
        ("https://gitlab.com/acme/api/pull/1", "not on the configured GitHub"),
        ("https://github.com:8443/acme/api/pull/1", "not on the configured GitHub"),
        ("https://github.com/acme/api/pulls/1", "is not a pull request URL"),
        ("https://github.com/acme/api/pull/1234567890", "is not a pull request URL"),
        ("https://github.com/acme/api/pull/\u0663", "is not a pull request URL"),
        ("ftp://github.com/acme/api/pull/1", "is not an http(s) URL"),
    ],
)
def test_other_pull_request_urls_are_refused_with_the_reason(url, why):
    with pytest.raises(ValueError, match=r".") as raised:
        pr_url_for_repository(url, repo="acme/api", web_url="https://github.com")

    assert why in str(raised.value)
