"""Login throttling: a run of wrong passwords locks one username from one address for the cool-off."""

import os
import subprocess
import sys
from io import StringIO

import pytest
import requests
from axes.models import AccessAttempt
from django.conf import settings
from django.core.management import call_command

from tests.factories import make_user

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def fast_password_hashes(settings):
    """Dozens of logins per test: a cheap hasher keeps them quick (throttling does not depend on it)."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def log_in(http: requests.Session, url: str, username: str, password: str) -> requests.Response:
    """Posts the login form as a browser does: its CSRF cookie first, then the form."""
    http.get(f"{url}/login/", timeout=10)
    return http.post(
        f"{url}/login/",
        data={"username": username, "password": password, "csrfmiddlewaretoken": http.cookies["csrftoken"]},
        allow_redirects=False,
        timeout=10,
    )


def logged_in(http: requests.Session, url: str) -> bool:
    return http.get(f"{url}/", allow_redirects=False, timeout=10).status_code == 200


def test_after_25_wrong_passwords_the_right_one_is_refused_until_the_cool_off_passes(live_server):
    make_user("ana", password="correct-horse-1")
    http = requests.Session()

    wrong = [log_in(http, live_server.url, "ana", f"guess-{i}") for i in range(25)]
    right = log_in(http, live_server.url, "ana", "correct-horse-1")

    limit = settings.AXES_FAILURE_LIMIT
    assert [r.status_code for r in wrong[: limit - 1]] == [200] * (limit - 1)  # the form again, with its error
    assert {r.status_code for r in wrong[limit:]} == {429}
    assert right.status_code == 429
    minutes = settings.AXES_COOLOFF_TIME.total_seconds() // 60
    assert f"Try again in {minutes:.0f} minutes" in right.text
    assert right.headers["Retry-After"] == str(int(minutes * 60))
    assert not logged_in(http, live_server.url)

    # The cool-off passes: move the recorded failures back past it rather than waiting.
    AccessAttempt.objects.update(attempt_time=AccessAttempt.objects.get().attempt_time - settings.AXES_COOLOFF_TIME)
    later = log_in(http, live_server.url, "ana", "correct-horse-1")

    assert later.status_code == 302
    assert logged_in(http, live_server.url)


def test_an_admins_reset_lifts_the_lock_at_once(live_server):
    make_user("ana", password="correct-horse-1")
    http = requests.Session()
    for i in range(settings.AXES_FAILURE_LIMIT):
        log_in(http, live_server.url, "ana", f"guess-{i}")
    assert log_in(http, live_server.url, "ana", "correct-horse-1").status_code == 429

    call_command("axes_reset", stdout=StringIO())

    assert log_in(http, live_server.url, "ana", "correct-horse-1").status_code == 302
    assert logged_in(http, live_server.url)


def test_a_successful_login_forgets_the_typos_before_it(live_server):
    make_user("ana", password="correct-horse-1")
    http = requests.Session()
    for _ in range(2):
        for i in range(settings.AXES_FAILURE_LIMIT - 1):
            log_in(http, live_server.url, "ana", f"typo-{i}")
        assert log_in(http, live_server.url, "ana", "correct-horse-1").status_code == 302
        http.cookies.clear()

    assert not AccessAttempt.objects.exists()


def test_a_locked_username_leaves_other_users_free_to_log_in(live_server):
    make_user("ana", password="correct-horse-1")
    make_user("bo", password="battery-staple-2")
    http = requests.Session()
    for i in range(settings.AXES_FAILURE_LIMIT):
        log_in(http, live_server.url, "ana", f"guess-{i}")

    assert log_in(http, live_server.url, "bo", "battery-staple-2").status_code == 302


def test_the_cool_off_and_the_failure_limit_come_from_the_environment():
    env = {**os.environ, "FLEETUI_LOGIN_FAILURE_LIMIT": "3", "FLEETUI_LOGIN_COOLOFF_MINUTES": "45"}
    code = "import django; django.setup(); from django.conf import settings as s; print(s.AXES_FAILURE_LIMIT, s.AXES_COOLOFF_TIME)"

    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120, check=True)

    assert out.stdout.split()[-2:] == ["3", "0:45:00"]
