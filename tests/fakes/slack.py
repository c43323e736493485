"""The `fake_slack` fixture: the demo's fake Slack, started for one test."""

import pytest

from runs.demo.fake_slack import FakeSlack


@pytest.fixture
def fake_slack():
    """A started FakeSlack answering with Slack's example payloads."""
    fake = FakeSlack().start()
    try:
        yield fake
    finally:
        fake.stop()
