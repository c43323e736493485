"""Traces that record tokens but no cost are priced at import by the model of each LLM call."""

import subprocess
import sys
from decimal import Decimal
from types import SimpleNamespace

import pytest
from mlflow.entities import SpanType

from runs.demo.tracing import experiment, fleet_tags, tracking, write_trace
from runs.fleet.models import Attempt
from runs.imports.pricing import parse_model_prices, price_for, priced_cost
from runs.imports.services import import_run_execute

PRICES = {"claude-sonnet-4-5": (3.0, 15.0), "claude": (1.0, 5.0), "gpt-4.1": (2.0, 8.0)}


def llm(model: str | None, input_tokens: int, output_tokens: int, *, via_inputs: bool = False, cost=None) -> dict:
    usage = {"input_tokens": input_tokens, "output_tokens": output_tokens, "total_tokens": input_tokens + output_tokens}
    attributes: dict = {"mlflow.chat.tokenUsage": usage}
    if model and not via_inputs:
        attributes["mlflow.llm.model"] = model
    if cost is not None:
        attributes["mlflow.llm.cost"] = {"input_cost": 0, "output_cost": cost, "total_cost": cost}
    inputs = {"model": model, "messages": []} if via_inputs else {"messages": []}
    return {"name": "chat", "type": SpanType.CHAT_MODEL, "attributes": attributes, "inputs": inputs}


def test_the_longest_configured_model_name_a_model_starts_with_sets_its_price():
    assert price_for("claude-sonnet-4-5-20250929", PRICES) == (3.0, 15.0)
    assert price_for("Claude-Haiku-4", PRICES) == (1.0, 5.0)
    assert price_for("gemini-2.5-pro", PRICES) is None


def test_prices_read_from_the_environment_form_and_a_bad_entry_is_named():
    assert parse_model_prices(" claude-sonnet-4-5=3,15; gpt-4.1 = 2 , 8 ;") == {
        "claude-sonnet-4-5": (3.0, 15.0),
        "gpt-4.1": (2.0, 8.0),
    }
    for bad in ("claude=3", "=1,2", "claude=a,b", "claude=-1,2", "claude=nan,1"):
        with pytest.raises(ValueError, match="model=input,output"):
            parse_model_prices(bad)


def test_only_llm_calls_with_a_priced_model_and_tokens_add_to_the_cost():
    spans = [
        SimpleNamespace(span_type="CHAT_MODEL", attributes=a["attributes"], inputs=a["inputs"])
        for a in (llm("claude-sonnet-4-5", 1_000_000, 0), llm("gemini", 5_000_000, 0), llm("gpt-4.1", 0, 500_000))
    ]
    spans.append(SimpleNamespace(span_type="TOOL", attributes={}, inputs={"model": "claude"}))

    assert priced_cost(spans, PRICES) == pytest.approx(3.0 + 4.0)
    assert priced_cost(spans[1:2], PRICES) is None
    assert priced_cost(spans, {}) is None


@pytest.mark.django_db(transaction=True)
def test_an_imported_trace_with_tokens_and_no_cost_is_priced_by_its_calls_models(tmp_path, settings):
    settings.FLEETUI_MODEL_PRICES = PRICES
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    with tracking(uri):
        exp = experiment("fleet/junit5")
        write_trace(
            experiment_id=exp,
            tags=fleet_tags(repo="acme/priced"),
            spans=[llm("claude-sonnet-4-5-20250929", 200_000, 10_000), llm("gpt-4.1", 100_000, 0, via_inputs=True)],
        )
        write_trace(experiment_id=exp, tags=fleet_tags(repo="acme/unknown"), spans=[llm("gemini-2.5", 50_000, 0)])
        write_trace(
            experiment_id=exp, tags=fleet_tags(repo="acme/recorded"), spans=[llm("claude", 1_000_000, 0, cost=0.42)]
        )
        import_run_execute(tracking_uri=uri, trigger="test")

    costs = {a.repository.full_name: a.cost_usd for a in Attempt.objects.select_related("repository")}
    assert costs["acme/priced"] == Decimal("0.600000") + Decimal("0.150000") + Decimal("0.200000")
    assert costs["acme/unknown"] is None, "a model without a price adds no dollars"
    assert costs["acme/recorded"] == Decimal("0.420000"), "a recorded cost is kept, not re-priced"


def test_a_malformed_price_setting_stops_start_up_with_the_variable_named(tmp_path):
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import django, os; os.environ['DJANGO_SETTINGS_MODULE']='fleetui.settings'; django.setup()",
        ],
        env={"FLEETUI_TESTING": "1", "FLEETUI_DATA_DIR": str(tmp_path), "FLEETUI_MODEL_PRICES": "claude=3", "PATH": ""},
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode != 0
    assert "FLEETUI_MODEL_PRICES" in result.stderr and "'claude=3'" in result.stderr
