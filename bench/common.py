"""Shared helpers for the benchmarks: data location, loading and synthetic failure texts."""

import gzip
import json
import os
import random
import sys
from collections.abc import Iterator
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))


def shared_dir() -> Path:
    """Directory of data shared between checkouts (FLEETUI_SHARED_DIR or ../shared)."""
    return Path(os.environ.get("FLEETUI_SHARED_DIR", REPO_ROOT / ".." / "shared")).resolve()


def data_path(name: str) -> Path:
    """Path of a file in the shared data directory."""
    return shared_dir() / "data" / name


def read_jsonl_gz(path: Path) -> Iterator[dict]:
    """Yield the records of a gzipped JSON Lines file."""
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                yield json.loads(line)


def require(path: Path) -> bool:
    """Print a clear message and return False when a data file is missing."""
    if path.exists():
        return True
    print(f"SKIP: {path.name} not found under {path.parent} (set FLEETUI_SHARED_DIR); nothing measured.")
    return False


def seeded(seed: int = 20240611) -> random.Random:
    """A private random generator so every run generates the same data."""
    return random.Random(seed)
