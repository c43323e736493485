"""Schemathesis against the running app: every operation of /api/openapi.json, valid and invalid input, no 5xx, no drift."""

import pytest
from hypothesis import HealthCheck, Phase, given, settings

from fleetui.common.roles import ADMIN
from runs.accounts.services import user_with_role_create
from tests.factories import make_api_token, make_attempt, make_import_run, make_migration, make_pull_request, make_repo

schemathesis = pytest.importorskip("schemathesis")
from schemathesis.specs.openapi.checks import positive_data_acceptance  # noqa: E402

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

# A few examples per operation and run keeps the whole test to a few minutes on two cores.
EXAMPLES_PER_OPERATION = 3


def _bounded(test):
    return settings(
        max_examples=EXAMPLES_PER_OPERATION,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )(test)


def _run(strategy, *, headers: dict, excluded: list) -> int:
    """Sends a few cases drawn from `strategy` and checks every answer; how many were sent."""
    sent = 0

    @_bounded
    @given(case=strategy)
    def run(case):
        nonlocal sent
        sent += 1
        case.call_and_validate(headers=headers, excluded_checks=excluded, timeout=30)

    run()
    return sent


def _seeded_path(label: str, seeds: dict[str, int]) -> dict:
    """Path parameters naming rows that exist, so valid requests reach past the 404."""
    path = label.split(" ", 1)[1]
    values: dict = {}
    if "{slug}" in path:
        values["slug"] = "java-21"
    if path.startswith("/imports/{id}"):
        values["id"] = seeds["import_run"]
    if path.startswith("/pull-requests/{id}"):
        values["id"] = seeds["pull_request"]
    return values


def test_schemathesis_finds_no_server_error_and_no_schema_violation(live_server, capsys):
    admin = user_with_role_create(username="fuzz-admin", role=ADMIN, password="s3cret-pass")
    headers = {"Authorization": f"Bearer {make_api_token(admin)}"}
    attempt = make_attempt(make_migration("java-21"), make_repo("org/alpha"))
    seeds = {"import_run": make_import_run(errors=2).pk, "pull_request": make_pull_request(attempt).pk}

    schema = schemathesis.openapi.from_url(f"{live_server.url}/api/openapi.json", headers=headers)
    failures: list[str] = []
    cases = 0
    operations = []
    for result in schema.get_all_operations():
        operation = result.ok()
        operations.append(operation.label)
        seeded = _seeded_path(operation.label, seeds)
        runs = [
            ("positive", schemathesis.GenerationMode.POSITIVE, {}, []),
            ("negative", schemathesis.GenerationMode.NEGATIVE, {}, []),
        ]
        if seeded:
            # Rows that exist reach the product's own rules (a rerun of nothing that failed, a pull request
            # without a decision to undo), which refuse some schema-valid requests with a 400 that says why.
            runs.append(
                ("positive, existing rows", schemathesis.GenerationMode.POSITIVE, seeded, [positive_data_acceptance])
            )
        for name, mode, path_parameters, excluded in runs:
            strategy = operation.as_strategy(generation_mode=mode, path_parameters=path_parameters or None)
            try:
                cases += _run(strategy, headers=headers, excluded=excluded)
            except (Exception, BaseExceptionGroup) as exc:  # one operation's failure must not hide the others'
                failures.append(f"{operation.label} ({name}): {str(exc)[:1500]}")

    summary = f"schemathesis: {cases} cases over {len(operations)} operations, {len(failures)} failing"
    with capsys.disabled():
        print(f"\n{summary}: {', '.join(operations)}")
    assert len(operations) >= 25, operations
    assert not failures, "\n\n".join(failures)
