"""Chromium through Playwright against the live test server; skipped where no Chromium is installed."""

import os
import shutil
from pathlib import Path

import pytest

from tests.conftest import need_service

# pytest-django's live server and Playwright's sync API share the test thread's event loop.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def chromium_path() -> str | None:
    """The system Chromium (never a downloaded browser)."""
    for candidate in (os.environ.get("FLEETUI_CHROMIUM"), "/usr/bin/chromium", shutil.which("chromium")):
        if candidate and Path(candidate).exists():
            return candidate
    return None


@pytest.fixture(scope="session")
def browser():
    path = chromium_path()
    need_service("Chromium", path is not None)
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        need_service("Playwright", False)
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=path, headless=True, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    context.set_default_timeout(15_000)
    opened = context.new_page()
    errors: list[str] = []
    opened.on("pageerror", lambda error: errors.append(str(error)))
    opened.js_errors = errors
    yield opened
    context.close()


@pytest.fixture
def screenshots() -> Path:
    """Where page screenshots go: $FLEETUI_ARTIFACTS/screenshots (default artifacts/)."""
    root = Path(os.environ.get("FLEETUI_ARTIFACTS") or Path(__file__).resolve().parents[2] / "artifacts")
    folder = root / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    return folder
