"""Shared fixtures: services from the environment, API clients and users per role."""

import os

import pytest

REQUIRE_SERVICES = os.environ.get("FLEETUI_REQUIRE_SERVICES") == "1"


def need_service(what: str, available: bool) -> None:
    """Skip when a service is absent, or fail when the run requires every service."""
    if available:
        return
    if REQUIRE_SERVICES:
        pytest.fail(f"{what} is required (FLEETUI_REQUIRE_SERVICES=1) but not available")
    pytest.skip(f"{what} is not available")


# Local fake vendor servers (GitHub, Slack, Backstage) as fixtures for every test folder.
pytest_plugins = ["tests.fakes.github", "tests.fakes.slack", "tests.fakes.backstage"]
