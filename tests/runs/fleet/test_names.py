"""Repository names: `owner/name` with sane parts, or a reason why not."""

import pytest
from django.core.exceptions import ValidationError

from runs.fleet.names import repository_name_error, validate_repository_name


@pytest.mark.parametrize(
    "name",
    ["acme/api", "Acme-Corp/payments_api", "acme/.github", "acme/api.v2", "acme_ldap/x", "a/b", "o/" + "n" * 100],
)
def test_ordinary_repository_names_are_accepted(name):
    assert repository_name_error(name) == ""
    validate_repository_name(name)


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("", "is empty"),
        ("api", "not of the form owner/name"),
        ("acme/api/extra", "not of the form owner/name"),
        ("/api", "empty owner"),
        ("acme/", "empty name"),
        ("-evil/api", "owner starting with '-'"),
        ("acme/-rf", "name starting with '-'"),
        ("../etc", "owner of '..'"),
        ("acme/..", "name of '..'"),
        ("acme/.", "name of '.'"),
        (".hidden/api", "owner starting with '.'"),
        ("acme/api name", "characters other than"),
        ("acme/api;rm", "characters other than"),
        ("acme/caf\u00e9", "characters other than"),
        (" acme/api", "spaces around it"),
        ("acme/" + "n" * 101, "longer than 100"),
        ("acme/api.git", "ends in '.git'"),
    ],
)
def test_bad_repository_names_are_refused_with_the_reason(name, why):
    assert why in repository_name_error(name)
    with pytest.raises(ValidationError, match="Repository name"):
        validate_repository_name(name)


@pytest.mark.django_db
def test_the_admin_refuses_a_repository_typed_in_with_a_bad_name():
    from runs.fleet.admin import RepositoryAdminForm

    bad = RepositoryAdminForm(data={"full_name": "-evil/..", "ownership_source": ""})
    good = RepositoryAdminForm(data={"full_name": "acme/api", "ownership_source": ""})

    assert not bad.is_valid()
    assert "starting with '-'" in bad.errors["full_name"][0]
    assert good.is_valid(), good.errors
