"""What a demo data folder already holds, so a second `rundemo` redoes only the steps whose inputs changed.

`demo-state.json` in the data folder records, after each preparation step succeeded, a fingerprint of the
inputs it read: the fleet's seed and size, the MLflow store file, the ownership catalog, the pull requests,
the static files. A step runs again when its fingerprint differs (or the file is gone); the steps are
idempotent, so a lost or stale file costs only time.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable
from pathlib import Path
from urllib.parse import unquote, urlparse

STATE_FILE = "demo-state.json"
VERSION = 1  # bump when a step's output changes meaning, to redo every step once


class DemoState:
    """The fingerprints recorded in one data folder."""

    def __init__(self, data_dir: Path) -> None:
        self.path = Path(data_dir) / STATE_FILE
        try:
            loaded = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            loaded = {}
        self.steps: dict[str, object] = loaded.get("steps", {}) if loaded.get("version") == VERSION else {}

    def current(self, step: str, fingerprint: object) -> bool:
        """Whether `step` last succeeded with exactly this fingerprint."""
        return fingerprint is not None and self.steps.get(step) == fingerprint

    def record(self, step: str, fingerprint: object) -> None:
        """Remember that `step` succeeded with `fingerprint` (written at once, atomically)."""
        if fingerprint is None:
            self.steps.pop(step, None)
        else:
            self.steps[step] = fingerprint
        self._write()

    def forget(self, *steps: str) -> None:
        """Make these steps run again next time."""
        for step in steps:
            self.steps.pop(step, None)
        self._write()

    def _write(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        partial = self.path.with_suffix(".tmp")
        partial.write_text(json.dumps({"version": VERSION, "steps": self.steps}, indent=1, sort_keys=True))
        os.replace(partial, self.path)


def sqlite_store_fingerprint(tracking_uri: str) -> str | None:
    """Size and modification time of a `sqlite:///` MLflow store and its journal; None for other stores."""
    if urlparse(tracking_uri).scheme != "sqlite":
        return None
    path = Path(unquote(tracking_uri[len("sqlite:///") :]))
    parts = []
    for candidate in (path, path.with_name(path.name + "-wal")):
        try:
            stat = candidate.stat()
        except OSError:
            if candidate == path:
                return None
            continue
        parts.append(f"{candidate.name}:{stat.st_size}:{stat.st_mtime_ns}")
    return "|".join(parts)


def files_fingerprint(paths: Iterable[Path]) -> str:
    """A digest of the files' names, sizes and modification times (not their bytes: cheap for many files)."""
    digest = hashlib.sha256()
    for path in sorted(Path(p) for p in paths):
        try:
            stat = path.stat()
        except OSError:
            continue
        digest.update(f"{path}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()


def tree_fingerprint(folder: Path) -> str | None:
    """files_fingerprint of every file under `folder`; None when it does not exist."""
    folder = Path(folder)
    if not folder.is_dir():
        return None
    return files_fingerprint(p for p in folder.rglob("*") if p.is_file())


def values_fingerprint(values: Iterable[str]) -> str:
    """A digest of the strings, in order."""
    digest = hashlib.sha256()
    for value in values:
        digest.update(value.encode())
        digest.update(b"\n")
    return digest.hexdigest()
