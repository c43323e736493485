"""The `fake_github` fixture: the demo's fake GitHub, started for one test."""

import pytest

from runs.demo.fake_github import FakeGitHub


@pytest.fixture
def fake_github():
    """A started FakeGitHub answering with GitHub's example payloads."""
    fake = FakeGitHub().start()
    try:
        yield fake
    finally:
        fake.stop()
