"""Forms send the browser back only to pages of this site."""

import pytest
from django.test import RequestFactory

from fleetui.common.redirects import next_url_or


@pytest.mark.parametrize("target", ["/reviews/?migration=a", "http://testserver/nudges/history/"])
def test_a_next_on_this_site_is_followed(target):
    request = RequestFactory().post("/x/", {"next": target})

    assert next_url_or(request, "/default/") == target


@pytest.mark.parametrize(
    "target", ["//evil.example/", "https://evil.example/", "/\\evil.example", "javascript:alert(1)", ""]
)
def test_a_next_elsewhere_falls_back_to_the_default(target):
    request = RequestFactory().post("/x/", {"next": target})

    assert next_url_or(request, "/default/") == "/default/"


def test_a_next_in_the_query_string_counts_when_the_form_has_none():
    request = RequestFactory().get("/x/", {"next": "/reruns/"})

    assert next_url_or(request, "/default/") == "/reruns/"
