"""Roles, the role checks, and the user and token management commands."""

from io import StringIO

import pytest
from django.contrib.auth.models import AnonymousUser, Group
from django.core.management import CommandError, call_command
from django.urls import reverse

from fleetui.common.roles import ADMIN, MIGRATION_OWNER, REVIEWER, ROLES, VIEWER, user_has_role
from runs.accounts.middleware import token_hash
from runs.accounts.models import ApiToken
from tests.factories import make_user

pytestmark = pytest.mark.django_db


def test_the_roles_migration_creates_one_group_per_role():
    assert set(Group.objects.filter(name__in=ROLES).values_list("name", flat=True)) == set(ROLES)


def test_a_viewer_holds_only_the_viewer_role():
    viewer = make_user(role=VIEWER)
    assert user_has_role(viewer, VIEWER)
    assert not user_has_role(viewer, MIGRATION_OWNER, REVIEWER)


def test_the_admin_group_passes_every_role_check():
    admin = make_user(role=ADMIN)
    assert user_has_role(admin, MIGRATION_OWNER)
    assert user_has_role(admin, REVIEWER)


def test_a_superuser_without_groups_passes_every_role_check():
    root = make_user(is_superuser=True)
    assert user_has_role(root, MIGRATION_OWNER)


def test_anonymous_and_inactive_users_hold_no_role():
    inactive = make_user(role=ADMIN, is_active=False)
    assert not user_has_role(AnonymousUser(), VIEWER)
    assert not user_has_role(inactive, VIEWER)


def test_a_user_without_the_role_gets_a_403_page_not_a_redirect(client):
    client.force_login(make_user(role=REVIEWER))
    response = client.post(reverse("import-start"))
    assert response.status_code == 403
    assert b"migration owner" in response.content
    assert response["Content-Type"].startswith("text/html")


def test_a_user_without_the_role_gets_a_json_403_from_the_api(client):
    client.force_login(make_user(role=VIEWER))
    response = client.post("/api/imports")
    assert response.status_code == 403
    assert "migration owner" in response.json()["error"]


def test_create_demo_users_creates_one_login_per_role():
    out = StringIO()
    call_command("create_demo_users", "--password", "demo-pass-123", stdout=out)
    from django.contrib.auth import authenticate

    for username, role in (("viewer", VIEWER), ("reviewer", REVIEWER), ("owner", MIGRATION_OWNER), ("admin", ADMIN)):
        user = authenticate(username=username, password="demo-pass-123")
        assert user is not None, username
        assert user.groups.filter(name=role).exists()
        assert username in out.getvalue()
    assert authenticate(username="admin", password="demo-pass-123").is_staff


def test_create_demo_users_leaves_existing_passwords_alone_but_restores_membership(monkeypatch):
    existing = make_user("owner", password="keep-this-one")
    monkeypatch.setenv("FLEETUI_DEMO_PASSWORD", "from-the-env-1")
    call_command("create_demo_users", stdout=StringIO())
    call_command("create_demo_users", stdout=StringIO())
    existing.refresh_from_db()
    assert existing.check_password("keep-this-one")
    assert existing.groups.filter(name=MIGRATION_OWNER).count() == 1
    from django.contrib.auth import authenticate

    assert authenticate(username="viewer", password="from-the-env-1") is not None


def test_create_api_token_prints_a_key_whose_hash_alone_is_stored(client):
    user = make_user("ci-bot", role=VIEWER)
    out = StringIO()
    call_command("create_api_token", "ci-bot", "--name", "ci", stdout=out, stderr=StringIO())
    key = out.getvalue().strip()
    token = ApiToken.objects.get(user=user)
    assert token.name == "ci"
    assert token.prefix == key[:8]
    assert token.key_hash == token_hash(key)
    assert key not in (token.key_hash, token.prefix)
    assert client.get("/api/migrations", headers={"Authorization": f"Bearer {key}"}).status_code == 200


def test_create_api_token_refuses_an_unknown_user():
    with pytest.raises(CommandError):
        call_command("create_api_token", "nobody", stdout=StringIO(), stderr=StringIO())
