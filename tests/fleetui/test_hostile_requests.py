"""Hostile requests get a 4xx (JSON under /api/, a page elsewhere), never a 500: through a real HTTP client and server."""

import copy
import hashlib
import hmac
import json

import pytest
import requests
from django.test import Client

from fleetui.common.roles import ADMIN
from runs.accounts.services import user_with_role_create
from runs.demo.payloads import payload_path
from tests.factories import make_api_token, make_migration

pytestmark = pytest.mark.django_db(transaction=True)

WEBHOOK_SECRET = "hostile-webhook-secret"
RUNNER_SECRET = "hostile-runner-secret"
DEEP = b"[" * 100_000 + b"]" * 100_000


@pytest.fixture
def site(live_server, settings):
    """The running app, an admin's bearer token and a migration to aim at."""
    settings.GITHUB_WEBHOOK_SECRET = WEBHOOK_SECRET
    settings.FLEETUI_RUNNER_SECRET = RUNNER_SECRET
    admin = user_with_role_create(username="hostile-admin", role=ADMIN, password="s3cret-pass")
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {make_api_token(admin)}"
    make_migration("java-21")
    return live_server.url, session, admin


def assert_json_error(response, status: int) -> str:
    assert response.status_code == status, response.text[:300]
    assert response.headers["Content-Type"].startswith("application/json"), response.text[:300]
    return response.json()["error"]


def assert_html(response, status: int) -> None:
    assert response.status_code == status, response.text[:300]
    assert response.headers["Content-Type"].startswith("text/html")


def webhook_sign(body: bytes) -> str:
    return "sha256=" + hmac.new(WEBHOOK_SECRET.encode(), body, hashlib.sha256).hexdigest()


def deliver(url: str, event: str, body: bytes, signature: str | bytes | None = None) -> requests.Response:
    headers = {
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": f"hostile-{hashlib.sha1(body).hexdigest()}",
        "X-Hub-Signature-256": signature if signature is not None else webhook_sign(body),
        "Content-Type": "application/json",
    }
    return requests.post(f"{url}/webhooks/github", data=body, headers=headers, timeout=30)


def session_cookie(user) -> dict:
    client = Client()
    client.force_login(user)
    return {"sessionid": client.cookies["sessionid"].value}


# -- signatures --------------------------------------------------------------------------------------------------


def test_a_webhook_signature_of_non_ascii_bytes_is_refused_with_401(site):
    url, _, _ = site
    body = json.dumps({"zen": "hostile"}).encode()
    response = deliver(url, "ping", body, signature=("sha256=" + "é" * 64).encode("latin-1"))
    assert "X-Hub-Signature-256" in assert_json_error(response, 401)


def test_a_runner_callback_signature_of_non_ascii_bytes_is_refused_with_401(site):
    url, _, _ = site
    body = json.dumps({"idempotency_key": "k", "state": "succeeded"}).encode()
    headers = {"X-Fleetui-Signature": ("sha256=" + "é" * 64).encode("latin-1"), "Content-Type": "application/json"}
    response = requests.post(f"{url}/api/reruns/callback", data=body, headers=headers, timeout=30)
    assert_json_error(response, 401)


# -- limits on offset, limit and id lists ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "params",
    [
        {"offset": str(2**63)},
        {"offset": "1" + "0" * 30},
        {"limit": "9" * 5000},
        {"limit": ""},
        {"limit": "1_0"},
        {"offset": "-1"},
    ],
)
def test_an_offset_or_limit_out_of_bounds_is_a_json_400(site, params):
    url, session, _ = site
    for path in ("/api/migrations", "/api/migrations/java-21/repos", "/api/imports"):
        error = assert_json_error(session.get(f"{url}{path}", params=params, timeout=30), 400)
        assert next(iter(params)) in error


@pytest.mark.parametrize(
    "path, body",
    [
        ("/api/migrations/java-21/reruns", {"repos": [f"org/repo-{n}" for n in range(5001)]}),
        ("/api/migrations/java-21/reruns", {"repos": ["org/a", 7]}),
        ("/api/migrations/java-21/reruns", {"exclude": ["org/" + "x" * 5000]}),
        ("/api/migrations/java-21/reruns", {"cluster": 1, "shuffle": True}),
        ("/api/migrations/java-21/nudges", {"repos": [f"org/repo-{n}" for n in range(5001)]}),
        ("/api/migrations/java-21/nudges", {"repos": [""]}),
    ],
)
def test_a_long_or_odd_list_of_names_is_a_json_400(site, path, body):
    url, session, _ = site
    assert_json_error(session.post(f"{url}{path}", json=body, timeout=60), 400)


# -- deep JSON and NUL -------------------------------------------------------------------------------------------


def test_a_json_body_nested_100000_deep_is_a_json_400(site):
    url, session, _ = site
    response = session.post(
        f"{url}/api/migrations/java-21/reruns", data=DEEP, headers={"Content-Type": "application/json"}, timeout=30
    )
    assert "deeper" in assert_json_error(response, 400)


def test_a_signed_webhook_nested_100000_deep_is_a_json_400(site):
    url, _, _ = site
    assert "deeper" in assert_json_error(deliver(url, "pull_request", DEEP), 400)


def test_nul_in_an_api_query_string_is_a_json_400(site):
    url, session, _ = site
    response = session.get(f"{url}/api/migrations/java-21/repos?team=%00", timeout=30)
    assert "NUL" in assert_json_error(response, 400)
    response = session.get(f"{url}/api/migrations/java-21/clusters?q=a%00b", timeout=30)
    assert "NUL" in assert_json_error(response, 400)


def test_nul_in_a_page_query_string_is_a_400_page(site):
    url, _, admin = site
    response = requests.get(f"{url}/migrations/java-21/repos/?team=%00", cookies=session_cookie(admin), timeout=30)
    assert_html(response, 400)


def test_nul_in_a_json_body_is_a_json_400(site):
    url, session, _ = site
    response = session.post(f"{url}/api/migrations/java-21/reruns", json={"repos": ["org/a\u0000b"]}, timeout=30)
    assert "NUL" in assert_json_error(response, 400)


# -- webhook payload types ---------------------------------------------------------------------------------------


def _opened() -> dict:
    return json.loads(payload_path("github/webhooks/pull_request.opened.json").read_text())


def _check_run() -> dict:
    return json.loads(payload_path("github/webhooks/check_run.completed.json").read_text())


def _mutated(payload: dict, path: tuple, value) -> dict:
    payload = copy.deepcopy(payload)
    node = payload
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return payload


@pytest.mark.parametrize(
    "event, payload",
    [
        ("pull_request", _mutated(_opened(), ("repository",), "Codertocat/Hello-World")),
        ("pull_request", _mutated(_opened(), ("pull_request",), "#2")),
        ("pull_request", _mutated(_opened(), ("pull_request", "number"), [2])),
        ("pull_request", _mutated(_opened(), ("pull_request", "head"), "main")),
        ("pull_request", _mutated(_opened(), ("pull_request", "updated_at"), 1_700_000_000)),
        ("pull_request", _mutated(_opened(), ("pull_request", "draft"), "yes")),
        ("pull_request", _mutated(_opened(), ("action",), ["opened"])),
        ("pull_request", _mutated(_opened(), ("repository", "full_name"), 42)),
        ("check_run", _mutated(_check_run(), ("check_run", "pull_requests"), "all")),
        ("check_run", _mutated(_check_run(), ("check_run", "pull_requests"), [2])),
    ],
    ids=lambda value: value if isinstance(value, str) else "",
)
def test_a_signed_webhook_whose_fields_have_the_wrong_types_is_a_json_400(site, event, payload):
    url, _, _ = site
    error = assert_json_error(deliver(url, event, json.dumps(payload).encode()), 400)
    assert "webhook field" in error


# -- error answers: JSON under /api/, pages elsewhere ------------------------------------------------------------


def test_an_unexpected_error_under_api_is_a_json_500_and_a_page_500_elsewhere(site, monkeypatch):
    url, session, admin = site

    def broken(*args, **kwargs):
        raise RuntimeError("the database went away")

    monkeypatch.setattr("runs.imports.selectors.import_run_list", broken)
    monkeypatch.setattr("runs.dashboards.list_views.migrations_with_counts", broken)
    error = assert_json_error(session.get(f"{url}/api/imports", timeout=30), 500)
    assert "database" not in error
    assert_html(requests.get(f"{url}/", cookies=session_cookie(admin), timeout=30), 500)


def test_an_oversize_body_is_a_json_413_under_api_and_a_413_page_elsewhere(site, settings):
    url, session, admin = site
    body = b'{"repos": ["' + b"x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1) + b'"]}'
    response = session.post(
        f"{url}/api/migrations/java-21/reruns", data=body, headers={"Content-Type": "application/json"}, timeout=60
    )
    assert "larger" in assert_json_error(response, 413)
    response = requests.post(f"{url}/webhooks/github", data=body, timeout=60)
    assert_html(response, 413)


def test_a_session_post_without_a_csrf_token_is_a_json_403_under_api(site):
    url, _, admin = site
    response = requests.post(f"{url}/api/imports", cookies=session_cookie(admin), timeout=30)
    assert "CSRF" in assert_json_error(response, 403)
    response = requests.post(f"{url}/pull-requests/sync/start/", cookies=session_cookie(admin), timeout=30)
    assert_html(response, 403)


def test_too_many_query_parameters_under_api_is_a_json_400(site):
    url, session, _ = site
    query = "&".join(f"p{n}=1" for n in range(1500))
    assert_json_error(session.get(f"{url}/api/migrations?{query}", timeout=30), 400)
