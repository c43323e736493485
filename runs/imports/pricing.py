"""Price an attempt's LLM calls by their model when the trace recorded tokens but no cost; pure, no Django.

`prices` maps a model name to (input, output) USD per million tokens. A span's model matches the longest
configured name it starts with, so "claude-sonnet-4-5" prices "claude-sonnet-4-5-20250929" too. A trace whose
priced calls are only some of its calls gets the cost of those; one with no priced call gets none.
"""

from __future__ import annotations

from typing import Any

LLM_TYPES = ("LLM", "CHAT_MODEL")
MILLION = 1_000_000
ModelPrices = dict[str, tuple[float, float]]


def parse_model_prices(text: str) -> ModelPrices:
    """ "model=3,15;other=0.5,1.5" -> {"model": (3.0, 15.0), ...}; ValueError names the first bad entry."""
    prices: ModelPrices = {}
    for entry in (part.strip() for part in text.split(";")):
        if not entry:
            continue
        model, _, pair = entry.partition("=")
        numbers = [number.strip() for number in pair.split(",")]
        try:
            if not model.strip() or len(numbers) != 2:
                raise ValueError
            price_in, price_out = float(numbers[0]), float(numbers[1])
            if price_in < 0 or price_out < 0 or price_in != price_in or price_out != price_out:
                raise ValueError
        except ValueError:
            raise ValueError(f"{entry!r} is not model=input,output in USD per million tokens") from None
        prices[model.strip().lower()] = (price_in, price_out)
    return prices


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
