"""Production settings from the environment: HTTPS switches, `check --deploy`, and the local-only key."""

import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

from fleetui.settings import LOCAL_ONLY_SECRET_KEY, proxy_ssl_header

ROOT = Path(__file__).resolve().parents[2]


def readme_production_env() -> dict[str, str]:
    """The variables of the README's production block (`NAME=value` lines of its first sh block)."""
    section = (ROOT / "README.md").read_text(encoding="utf-8").split("## Running it in production", 1)[1]
    block = re.search(r"```sh\n(.*?)```", section, re.S).group(1)
    pairs = (line.split("#", 1)[0].strip().split("=", 1) for line in block.splitlines())
    return {name: value for name, value in (p for p in pairs if len(p) == 2)}


def manage(*args: str, data_dir: Path, **env: str) -> subprocess.CompletedProcess:
    """manage.py in a fresh process, with only the given variables (no test-mode switch)."""
    base = {"PATH": os.environ["PATH"], "HOME": str(data_dir), "FLEETUI_DATA_DIR": str(data_dir)}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_check_deploy_with_the_readmes_production_settings_reports_no_issues(tmp_path):
    env = readme_production_env()
    assert env["DJANGO_SECRET_KEY"] == "replace-me"
    env["DJANGO_SECRET_KEY"] = secrets.token_urlsafe(50)

    result = manage("check", "--deploy", "--fail-level", "WARNING", data_dir=tmp_path, **env)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_check_deploy_without_the_https_switches_names_what_is_missing(tmp_path):
    env = {"DJANGO_SECRET_KEY": secrets.token_urlsafe(50), "ALLOWED_HOSTS": "fleetui.example.com"}

    result = manage("check", "--deploy", "--fail-level", "WARNING", data_dir=tmp_path, **env)

    assert result.returncode != 0
    for check in ("security.W004", "security.W008", "security.W012", "security.W016"):
        assert check in result.stderr + result.stdout


def test_the_proxy_header_setting_takes_a_header_name():
    os.environ["FLEETUI_TEST_PROXY_HEADER"] = "X-Forwarded-Proto"
    try:
        assert proxy_ssl_header("FLEETUI_TEST_PROXY_HEADER") == ("HTTP_X_FORWARDED_PROTO", "https")
        os.environ["FLEETUI_TEST_PROXY_HEADER"] = "0"
        assert proxy_ssl_header("FLEETUI_TEST_PROXY_HEADER") is None
        os.environ["FLEETUI_TEST_PROXY_HEADER"] = "X-Proto: https"
        with pytest.raises(Exception, match="header name"):
            proxy_ssl_header("FLEETUI_TEST_PROXY_HEADER")
    finally:
        del os.environ["FLEETUI_TEST_PROXY_HEADER"]


@pytest.mark.django_db
def test_behind_the_proxy_plain_http_is_redirected_except_the_health_check(client, settings):
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.SECURE_HSTS_SECONDS = 31536000

    plain = client.get("/login/", headers={"X-Forwarded-Proto": "http"})
    secure = client.get("/login/", headers={"X-Forwarded-Proto": "https"})
    probe = client.get("/healthz", headers={"X-Forwarded-Proto": "http"})

    assert plain.status_code == 301 and plain["Location"].startswith("https://")
    assert secure.status_code == 200 and secure["Strict-Transport-Security"].startswith("max-age=31536000")
    assert probe.status_code == 200


def test_the_local_only_key_is_refused_when_a_demo_serves_a_public_host_name(tmp_path):
    result = manage("check", data_dir=tmp_path, FLEETUI_DEMO="1", ALLOWED_HOSTS="localhost,fleet.example.com")

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "loopback" in result.stderr and "fleet.example.com" in result.stderr and "DJANGO_SECRET_KEY" in result.stderr


def test_the_local_only_key_set_by_hand_is_refused_in_production(tmp_path):
    result = manage("check", data_dir=tmp_path, DJANGO_SECRET_KEY=LOCAL_ONLY_SECRET_KEY, ALLOWED_HOSTS="localhost")

    assert result.returncode != 0
    assert "local-only key, which is refused here" in result.stderr


def test_the_demo_on_loopback_still_runs_on_the_local_only_key(tmp_path):
    result = manage("check", data_dir=tmp_path, FLEETUI_DEMO="1")

    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_without_a_key_the_error_says_how_to_run_a_command_in_the_demo(tmp_path):
    result = manage("create_api_token", "owner", data_dir=tmp_path)

    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY is not set" in result.stderr
    assert "FLEETUI_DEMO=1 python manage.py create_api_token owner" in result.stderr


@pytest.mark.slow
def test_create_api_token_works_beside_the_demo_without_setting_demo_mode(tmp_path):
    assert manage("migrate", "--noinput", data_dir=tmp_path, FLEETUI_DEMO="1").returncode == 0
    assert manage("create_demo_users", data_dir=tmp_path, FLEETUI_DEMO="1").returncode == 0
    (tmp_path / "demo-catalog").mkdir()  # what `seed_demo` (run by `make demo`) leaves in the data folder

    result = manage("create_api_token", "owner", "--name", "script", data_dir=tmp_path)

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().startswith("fui_")
    assert "Read-only token for owner created, expires" in result.stderr
