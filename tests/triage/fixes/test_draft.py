"""Drafting what to add to the prompt through an OpenAI-compatible endpoint (a local fake), shown as a draft."""

import pytest
from django.urls import reverse

from fleetui.common.roles import MIGRATION_OWNER, VIEWER
from tests.factories import make_api_token, make_user
from tests.fakes.llm import FakeLLM

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def llm(settings):
    fake = FakeLLM().start()
    settings.FLEETUI_LLM_BASE_URL = fake.url
    settings.FLEETUI_LLM_MODEL = "gpt-test"
    settings.FLEETUI_LLM_API_KEY = "sk-test"
    settings.FLEETUI_LLM_TIMEOUT = 5
    yield fake
    fake.stop()


def _draft(client, fleet, role=MIGRATION_OWNER):
    client.force_login(make_user(role=role))
    return client.post(reverse("cluster-fix-draft", args=[fleet.cluster.pk]))


def test_the_draft_is_asked_with_the_cause_and_fixes_and_shown_escaped_as_a_draft(client, fleet, llm):
    llm.reply = "Pin <b>structlog</b> in requirements.txt <script>alert(1)</script>"
    client.force_login(make_user(role=MIGRATION_OWNER))
    page = client.get(reverse("cluster-fixes", args=[fleet.cluster.pk])).content.decode()

    response = client.post(reverse("cluster-fix-draft", args=[fleet.cluster.pk]))

    assert "Draft what to add to the prompt" in page and "gpt-test" in page
    html = response.content.decode()
    assert response.status_code == 200 and "Draft, not reviewed:" in html
    assert "&lt;b&gt;structlog&lt;/b&gt;" in html and "<script>" not in html
    sent = llm.requests[0]
    assert sent["path"] == "/v1/chat/completions" and sent["headers"]["Authorization"] == "Bearer sk-test"
    assert sent["body"]["model"] == "gpt-test"
    question = sent["body"]["messages"][-1]["content"]
    assert "acme/jobs" in question and "+structlog==24.1.0" in question


def test_a_slow_failing_or_strange_endpoint_says_why_there_is_no_draft(client, fleet, llm, settings):
    settings.FLEETUI_LLM_TIMEOUT = 1
    llm.delay = 3
    slow = _draft(client, fleet).content.decode()
    llm.delay, llm.status = 0, 500
    failing = _draft(client, fleet).content.decode()
    llm.status, llm.raw = 200, b'{"choices": []}'
    strange = _draft(client, fleet).content.decode()

    assert "did not answer within 1 s" in slow and "data-draft " not in slow
    assert "answered HTTP 500" in failing
    assert "no choices[0].message.content" in strange


def test_only_owners_draft_and_without_an_endpoint_there_is_no_button(client, fleet, settings):
    assert _draft(client, fleet, role=VIEWER).status_code == 403
    settings.FLEETUI_LLM_BASE_URL = ""
    client.force_login(make_user(role=MIGRATION_OWNER))

    page = client.get(reverse("cluster-fixes", args=[fleet.cluster.pk])).content.decode()

    assert "How it was fixed elsewhere" in page and "Draft what to add to the prompt" not in page


def test_the_api_answers_the_draft_as_json_and_503_when_no_endpoint_is_configured(client, fleet, llm, settings):
    owner = {"Authorization": f"Bearer {make_api_token(make_user(role=MIGRATION_OWNER))}"}
    viewer = {"Authorization": f"Bearer {make_api_token(make_user(role=VIEWER))}"}
    url = f"/api/clusters/{fleet.cluster.pk}/fixes/draft"

    answer = client.post(url, headers=owner)
    refused = client.post(url, headers=viewer)
    settings.FLEETUI_LLM_MODEL = ""
    unconfigured = client.post(url, headers=owner)

    assert answer.status_code == 200
    assert answer.json() == {"draft": llm.reply, "model": "gpt-test", "examples": 2}
    assert refused.status_code == 403
    assert unconfigured.status_code == 503 and "FLEETUI_LLM_BASE_URL" in unconfigured.json()["error"]
