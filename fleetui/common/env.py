"""Reading settings from the environment: typed, with defaults, loud when a value cannot be understood."""

from __future__ import annotations

import os

from django.core.exceptions import ImproperlyConfigured

ModelPrices = dict[str, tuple[float, float]]


def envbool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def envint(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be a whole number, got {value!r}") from exc


def envfloat(name: str, default: float) -> float:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        return float(value)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be a number, got {value!r}") from exc


def envlist(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def env_default_price(name: str) -> dict[str, str] | None:
    """ "3,15" -> {"input": "3", "output": "15"} USD per million tokens; None when unset or not two numbers."""
    price = [part.strip() for part in os.environ.get(name, "").split(",") if part.strip()]
    return {"input": price[0], "output": price[1]} if len(price) == 2 else None


def env_model_prices(name: str) -> ModelPrices:
    """Prices per model from `name` (see parse_model_prices); a malformed entry stops start-up naming it."""
    try:
        return parse_model_prices(os.environ.get(name, ""))
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name}: {exc}") from exc


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
