"""GitHub and Slack example payloads from the vendors' published API descriptions (see LICENSES/NOTICE.md).

The demo's fake GitHub and Slack answer with them, and the tests check the parsers against them.
"""

import json
from pathlib import Path
from typing import Any

PAYLOADS_DIR = Path(__file__).resolve().parent


def payload_path(relative: str) -> Path:
    """Path of one payload, e.g. `github/rest/pulls.get.json` or `slack/spec/chat.postMessage.json`."""
    return PAYLOADS_DIR / relative


def payload(relative: str) -> Any:
    """One payload, parsed."""
    return json.loads(payload_path(relative).read_text(encoding="utf-8"))
