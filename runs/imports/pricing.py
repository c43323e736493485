"""Price an attempt's LLM calls by their model when the trace recorded tokens but no cost; pure, no Django.

`prices` maps a model name to (input, output) USD per million tokens. A span's model matches the longest
configured name it starts with, so "claude-sonnet-4-5" prices "claude-sonnet-4-5-20250929" too. A trace whose
priced calls are only some of its calls gets the cost of those; one with no priced call gets none.
"""

from __future__ import annotations

from typing import Any

from fleetui.common.env import ModelPrices, parse_model_prices

__all__ = ["ModelPrices", "parse_model_prices", "price_for", "priced_cost", "span_model"]

LLM_TYPES = ("LLM", "CHAT_MODEL")
MILLION = 1_000_000


def price_for(model: str, prices: ModelPrices) -> tuple[float, float] | None:
    """The price of the longest configured model name that `model` starts with."""
    model = model.strip().lower()
    matches = [name for name in prices if model.startswith(name)]
    return prices[max(matches, key=len)] if matches else None


def span_model(span: Any) -> str:
    """The model an LLM span called: MLflow's model attribute, else the `model` of its inputs."""
    attributes = getattr(span, "attributes", None) or {}
    model = attributes.get("mlflow.llm.model")
    if not model:
        inputs = getattr(span, "inputs", None)
        model = inputs.get("model") if isinstance(inputs, dict) else None
    return model if isinstance(model, str) else ""


def _tokens(value: Any) -> int:
    try:
        return max(0, int(value))
    except (TypeError, ValueError):
        return 0


def priced_cost(spans: list[Any], prices: ModelPrices) -> float | None:
    """USD of the LLM spans whose model has a price and that recorded tokens; None when none has both."""
    if not prices:
        return None
    total, priced = 0.0, False
    for span in spans:
        if str(getattr(span, "span_type", "") or "") not in LLM_TYPES:
            continue
        usage = (getattr(span, "attributes", None) or {}).get("mlflow.chat.tokenUsage")
        price = price_for(span_model(span), prices)
        if not isinstance(usage, dict) or price is None:
            continue
        priced = True
        total += (
            _tokens(usage.get("input_tokens")) * price[0] + _tokens(usage.get("output_tokens")) * price[1]
        ) / MILLION
    return total if priced else None
