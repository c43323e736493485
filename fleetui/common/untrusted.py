"""Reads untrusted request input within bounds: JSON of limited nesting, strings a database can store."""

import json
import re
from collections.abc import Iterable

# No request this product answers nests deeper than a handful of levels; GitHub's deliveries
# stay under ten. Anything deeper is refused before code that recurses (or Python's own
# parser, at about a thousand levels) can fail on it.
MAX_JSON_DEPTH = 32

# PostgreSQL text cannot hold NUL, and no database driver can encode an unpaired surrogate.
_UNSTORABLE = re.compile(r"[\x00\ud800-\udfff]")


class UntrustedInputError(ValueError):
    """Input refused before it reaches the code that would choke on it; the message says why."""


def unstorable(value: str) -> bool:
    """True when `value` holds a NUL character or an unpaired surrogate."""
    return _UNSTORABLE.search(value) is not None


def json_loads_bounded(raw: bytes | str, *, max_depth: int = MAX_JSON_DEPTH, what: str = "the body"):
    """Parses JSON, refusing invalid text, nesting deeper than `max_depth` and strings a database cannot store."""
    try:
        data = json.loads(raw, parse_constant=_refuse_constant)
    except RecursionError:
        raise UntrustedInputError(f"{what} nests deeper than {max_depth} levels") from None
    except (ValueError, UnicodeDecodeError):
        raise UntrustedInputError(f"{what} is not valid JSON") from None
    _check_tree(data, max_depth=max_depth, what=what)
    return data


def _refuse_constant(name: str):
    # NaN and Infinity are not JSON, and PostgreSQL's jsonb refuses them.
    raise ValueError(f"{name} is not a JSON number")


def _check_tree(data, *, max_depth: int, what: str) -> None:
    # Iterative, so a deep document cannot exhaust the stack here either.
    stack: list[tuple[object, int]] = [(data, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, str):
            if unstorable(node):
                raise UntrustedInputError(f"{what} holds a NUL character or an unpaired surrogate")
            continue
        if not isinstance(node, dict | list):
            continue
        if depth > max_depth:
            raise UntrustedInputError(f"{what} nests deeper than {max_depth} levels")
        children: Iterable = node.values() if isinstance(node, dict) else node
        if isinstance(node, dict):
            for key in node:
                if unstorable(key):
                    raise UntrustedInputError(f"{what} holds a NUL character or an unpaired surrogate")
        stack.extend((child, depth + 1) for child in children)
