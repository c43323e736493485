"""API tokens open only the JSON API, within their scope and lifetime, and their owner lists and revokes them."""

import datetime
from io import StringIO

import pytest
import requests
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone

from fleetui.common.roles import ADMIN, MIGRATION_OWNER, ROLES, VIEWER
from runs.accounts.models import ApiToken
from runs.accounts.services import api_token_create, token_hash
from runs.fleet.models import AuditEvent
from runs.imports.models import ImportRun
from tests.factories import make_user


def bearer(key: str) -> dict:
    return {"Authorization": f"Bearer {key}"}


def token_of(key: str) -> ApiToken:
    return ApiToken.objects.get(key_hash=token_hash(key))


# --- over HTTP, against the running app ---------------------------------------------


@pytest.fixture
def live_server(live_server):
    """The live server over a flushed database: the role groups its data migration made are put back."""
    for role in ROLES:
        Group.objects.get_or_create(name=role)
    return live_server


@pytest.mark.django_db(transaction=True)
def test_a_token_opens_the_api_but_neither_the_pages_nor_the_admin(live_server):
    admin = make_user("root", role=ADMIN, is_staff=True, is_superuser=True)
    key = api_token_create(user=admin, scope=ApiToken.Scope.READ_WRITE)
    http = requests.Session()
    http.headers.update(bearer(key))

    assert http.get(f"{live_server.url}/api/migrations", timeout=10).status_code == 200
    page = http.get(f"{live_server.url}/", allow_redirects=False, timeout=10)
    admin_page = http.get(f"{live_server.url}/admin/", allow_redirects=False, timeout=10)
    # Before, the token logged the request in and switched CSRF checks off: this made a superuser.
    add_user = http.post(
        f"{live_server.url}/admin/auth/user/add/",
        data={
            "username": "intruder",
            "password1": "Xy7!long-pass",
            "password2": "Xy7!long-pass",
            "usable_password": "true",
        },
        allow_redirects=False,
        timeout=10,
    )

    assert page.status_code == 302 and page.headers["Location"].startswith("/login/")
    assert admin_page.status_code == 302 and "/login/" in admin_page.headers["Location"]
    assert add_user.status_code in (302, 403)
    assert not get_user_model().objects.filter(username="intruder").exists()


@pytest.mark.django_db(transaction=True)
def test_a_read_only_token_reads_but_gets_a_json_403_on_a_post(live_server):
    key = api_token_create(user=make_user(role=MIGRATION_OWNER), scope=ApiToken.Scope.READ_ONLY)

    read = requests.get(f"{live_server.url}/api/migrations", headers=bearer(key), timeout=10)
    write = requests.post(f"{live_server.url}/api/imports", headers=bearer(key), timeout=10)

    assert read.status_code == 200
    assert write.status_code == 403
    assert write.headers["Content-Type"] == "application/json"
    assert "read-only" in write.json()["error"]
    assert not ImportRun.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_read_write_token_of_an_owner_starts_an_import(live_server):
    key = api_token_create(user=make_user(role=MIGRATION_OWNER), scope=ApiToken.Scope.READ_WRITE)

    response = requests.post(f"{live_server.url}/api/imports", headers=bearer(key), timeout=10)

    assert response.status_code == 202
    assert ImportRun.objects.filter(pk=response.json()["id"]).exists()


@pytest.mark.django_db(transaction=True)
def test_an_expired_token_gets_a_json_401(live_server):
    key = api_token_create(user=make_user(role=VIEWER), scope=ApiToken.Scope.READ_ONLY, expires_in_days=1)
    ApiToken.objects.filter(key_hash=token_hash(key)).update(expires_at=timezone.now() - datetime.timedelta(seconds=1))

    response = requests.get(f"{live_server.url}/api/migrations", headers=bearer(key), timeout=10)

    assert response.status_code == 401
    assert response.headers["Content-Type"] == "application/json"
    assert "expired" in response.json()["error"]
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.django_db(transaction=True)
def test_a_revoked_token_gets_a_json_401_even_with_a_session_beside_it(live_server, client):
    user = make_user(role=VIEWER)
    key = api_token_create(user=user, scope=ApiToken.Scope.READ_ONLY)
    client.force_login(user)
    client.post(reverse("api-token-revoke", args=[token_of(key).pk]))
    http = requests.Session()
    http.cookies.set("sessionid", client.cookies["sessionid"].value)

    response = http.get(f"{live_server.url}/api/migrations", headers=bearer(key), timeout=10)

    assert http.get(f"{live_server.url}/api/migrations", timeout=10).status_code == 200
    assert response.status_code == 401
    assert "revoked" in response.json()["error"]


# --- the tokens page -----------------------------------------------------------------


@pytest.mark.django_db
def test_the_tokens_page_lists_only_the_users_own_tokens_with_their_details(client):
    ana, bob = make_user("ana", role=VIEWER), make_user("bob", role=VIEWER)
    api_token_create(user=ana, name="ana-ci", scope=ApiToken.Scope.READ_ONLY)
    api_token_create(user=bob, name="bob-<script>", scope=ApiToken.Scope.READ_WRITE)
    client.force_login(ana)

    body = client.get(reverse("api-tokens")).content.decode()

    assert "ana-ci" in body and "Read-only" in body and "never" in body
    assert "bob-" not in body
    assert reverse("api-tokens").encode() in client.get(reverse("home")).content  # the user menu links it


@pytest.mark.django_db
def test_creating_a_token_on_the_page_shows_its_key_once_and_records_an_audit_event(client):
    ana = make_user("ana", role=VIEWER)
    client.force_login(ana)

    response = client.post(reverse("api-tokens"), {"name": "report", "scope": "read-only", "expires_in_days": "30"})

    key = response.context["new_key"]
    token = token_of(key)
    assert response.status_code == 200 and key in response.content.decode()
    assert response["Cache-Control"].startswith("max-age=0") or "no-store" in response["Cache-Control"]
    assert (token.user, token.name, token.scope) == (ana, "report", "read-only")
    assert abs(token.expires_at - (timezone.now() + datetime.timedelta(days=30))) < datetime.timedelta(minutes=1)
    assert key not in client.get(reverse("api-tokens")).content.decode()
    event = AuditEvent.objects.get(verb="api_token.created")
    assert (event.actor, event.data["scope"], event.data["via"]) == (ana, "read-only", "tokens page")


@pytest.mark.django_db
def test_a_token_form_with_an_unknown_scope_or_expiry_is_refused_and_creates_nothing(client):
    client.force_login(make_user(role=VIEWER))

    response = client.post(reverse("api-tokens"), {"name": "x", "scope": "admin", "expires_in_days": "9999"})

    assert response.status_code == 400
    assert not ApiToken.objects.exists()


@pytest.mark.django_db
def test_revoking_asks_for_confirmation_then_revokes_and_records_it(client):
    ana = make_user("ana", role=VIEWER)
    key = api_token_create(user=ana, name="old", scope=ApiToken.Scope.READ_ONLY)
    token = token_of(key)
    client.force_login(ana)

    confirm = client.get(reverse("api-token-revoke", args=[token.pk]))
    still_works = client.get("/api/migrations", headers=bearer(key)).status_code
    done = client.post(reverse("api-token-revoke", args=[token.pk]))
    client.logout()

    assert confirm.status_code == 200 and b"Revoke token" in confirm.content
    assert still_works == 200
    assert done.status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None and token.status == "revoked"
    assert client.get("/api/migrations", headers=bearer(key)).status_code == 401
    assert AuditEvent.objects.filter(verb="api_token.revoked", actor=ana).count() == 1


@pytest.mark.django_db
def test_nobody_sees_or_revokes_another_users_token(client):
    key = api_token_create(user=make_user("bob", role=VIEWER))
    client.force_login(make_user("ana", role=ADMIN))

    pk = token_of(key).pk

    assert client.get(reverse("api-token-revoke", args=[pk])).status_code == 404
    assert client.post(reverse("api-token-revoke", args=[pk])).status_code == 404
    assert token_of(key).revoked_at is None


# --- the command ----------------------------------------------------------------------


@pytest.mark.django_db
def test_create_api_token_makes_a_read_only_token_for_90_days_by_default():
    make_user("ci-bot", role=VIEWER)
    out = StringIO()

    call_command("create_api_token", "ci-bot", stdout=out, stderr=StringIO())

    token = token_of(out.getvalue().strip())
    assert token.scope == ApiToken.Scope.READ_ONLY
    assert abs(token.expires_at - (timezone.now() + datetime.timedelta(days=90))) < datetime.timedelta(minutes=1)
    assert AuditEvent.objects.get(verb="api_token.created").data["via"] == "manage.py create_api_token"


@pytest.mark.django_db
def test_create_api_token_takes_a_scope_and_an_expiry_in_days():
    make_user("ci-bot", role=MIGRATION_OWNER)
    out = StringIO()

    call_command(
        "create_api_token", "ci-bot", "--scope", "read-write", "--expires-days", "7", stdout=out, stderr=StringIO()
    )

    token = token_of(out.getvalue().strip())
    assert token.scope == ApiToken.Scope.READ_WRITE
    assert abs(token.expires_at - (timezone.now() + datetime.timedelta(days=7))) < datetime.timedelta(minutes=1)


@pytest.mark.django_db
@pytest.mark.parametrize("days", ["0", "366", "-3"])
def test_create_api_token_refuses_an_expiry_outside_one_day_to_a_year(days):
    make_user("ci-bot", role=VIEWER)

    with pytest.raises(CommandError, match="between 1 and 365"):
        call_command("create_api_token", "ci-bot", "--expires-days", days, stdout=StringIO(), stderr=StringIO())
    assert not ApiToken.objects.exists()
