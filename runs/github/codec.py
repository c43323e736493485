"""JSON encoding of the client's parsed answers (its dataclasses, lists, datetimes), to store them beside ETags."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Any

from runs.github import types

# The dataclasses a stored answer may hold, by name.
_TYPES: dict[str, type] = {
    cls.__name__: cls
    for cls in (
        types.PullInfo,
        types.PullsListing,
        types.Review,
        types.CheckRun,
        types.CommitStatus,
        types.CombinedStatus,
        types.IssueComment,
    )
}


def encode(value: Any) -> Any:
    """A JSON-safe form of `value`; `decode` gives it back equal."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        name = type(value).__name__
        if name not in _TYPES:
            raise TypeError(f"cannot store a {name}")
        fields = {field.name: encode(getattr(value, field.name)) for field in dataclasses.fields(value)}
        return {"$t": name, **fields}
    if isinstance(value, datetime):
        return {"$dt": value.isoformat()}
    if isinstance(value, list | tuple):
        return [encode(item) for item in value]
    if isinstance(value, dict):
        return {"$d": {str(key): encode(item) for key, item in value.items()}}
    if value is None or isinstance(value, str | int | float | bool):
        return value
    raise TypeError(f"cannot store a {type(value).__name__}")


def decode(data: Any) -> Any:
    """The value `encode` was given."""
    if isinstance(data, list):
        return [decode(item) for item in data]
    if isinstance(data, dict):
        if "$dt" in data:
            return datetime.fromisoformat(data["$dt"])
        if "$d" in data:
            return {key: decode(item) for key, item in data["$d"].items()}
        cls = _TYPES[data["$t"]]
        return cls(**{key: decode(item) for key, item in data.items() if key != "$t"})
    return data
