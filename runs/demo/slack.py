"""Load the demo workspace's Slack channels into a running fake Slack, so the normal directory sync can read them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def demo_slack_populate(fake: Any, *, channels_file: Path) -> int:
    """Add every channel of slack-channels.json (written by seed_demo) to the fake; returns how many."""
    channels = json.loads(Path(channels_file).read_text(encoding="utf-8"))
    added = 0
    for item in channels:
        if item["id"] in fake.channels:
            continue
        fake.add_channel(
            item["name"],
            channel_id=item["id"],
            is_private=bool(item.get("is_private")),
            is_archived=bool(item.get("is_archived")),
            # The demo bot sits in the private channels it was invited to; public ones it joins on first send.
            is_member=bool(item.get("is_private")),
            num_members=int(item.get("num_members") or 5),
        )
        added += 1
    return added
