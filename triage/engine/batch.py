"""Extract, mask and sign many failures at once, over several processes when there are many (pure).

Each failure is read on its own, so the work splits into chunks that processes do side by side; the
chunks come back in order, and every answer is the one `prepare_failure` gives for the same failure.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from functools import partial
from typing import NamedTuple

from triage.engine.causes import Cause, cause_of
from triage.engine.extraction import extract_snippet
from triage.engine.normalize import normalize_text, signature

# Below this many failures a second process costs more to start than it saves.
MIN_PARALLEL = 4_000
CHUNK = 500
MAX_WORKERS = 2


class RawFailure(NamedTuple):
    """A failure as it arrives: its id, raw verifier output (or a judge's rationale) and where it ran."""

    id: str
    text: str | bytes
    verifier: str | None = None
    repo: str | None = None
    kind: str = "verify"


Prepared = tuple[str, str, str, Cause]


def prepare_one(failure: RawFailure) -> Prepared:
    """(snippet, normalised text, signature, cause) of one failure."""
    verifier = failure.verifier
    if failure.kind == "judge" and verifier is None:
        verifier = "judge"
    snippet = extract_snippet(failure.text, verifier)
    normalized = normalize_text(snippet, repo=failure.repo)
    return snippet, normalized, signature(normalized), cause_of(snippet, repo=failure.repo)


class StoredFailure(NamedTuple):
    """A failure whose snippets were cut at import time (one per failed verifier call), to be signed again."""

    snippets: tuple[str, ...]
    repo: str | None = None


Reread = tuple[str, Cause]


def reread_one(failure: StoredFailure) -> Reread:
    """(normalised text, cause) of a stored failure: each snippet masked on its own, the cause read on all."""
    parts = [normalize_text(s, repo=failure.repo) for s in failure.snippets]
    snippet = "\n".join(s for s in failure.snippets if s)
    return "\n".join(p for p in parts if p), cause_of(snippet, repo=failure.repo)


def _run_chunk(fn: Callable, chunk: list) -> list:
    return [fn(item) for item in chunk]


def default_workers() -> int:
    """Processes to use: the cores this process may run on, at most MAX_WORKERS."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return max(1, min(MAX_WORKERS, cores))


def _context():
    # A fresh server process forks the workers: safe when the caller runs threads, unlike a plain fork.
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")


def _map(fn: Callable, items: Sequence, workers: int | None, chunk: int, while_waiting) -> list:
    workers = default_workers() if workers is None else workers
    # A daemonic process (a pool's worker) may not start processes of its own.
    if workers <= 1 or len(items) < MIN_PARALLEL or multiprocessing.current_process().daemon:
        return _run_chunk(fn, list(items))
    chunks = [list(items[start : start + chunk]) for start in range(0, len(items), chunk)]
    out: list = []
    try:
        with ProcessPoolExecutor(max_workers=workers, mp_context=_context()) as pool:
            parts = pool.map(partial(_run_chunk, fn), chunks)
            if while_waiting is not None:
                while_waiting()
            for part in parts:
                out.extend(part)
    except (OSError, BrokenProcessPool):
        # No processes to be had (limits, a sandbox): the same answers, computed here.
        return _run_chunk(fn, list(items))
    return out


def prepare_many(
    failures: Sequence[RawFailure],
    *,
    workers: int | None = None,
    chunk: int = CHUNK,
    while_waiting: Callable[[], object] | None = None,
) -> list[Prepared]:
    """`prepare_one` of every failure, in order; over `workers` processes when there are enough failures.

    while_waiting runs in this process while the workers work (say, loading what comes next)."""
    return _map(prepare_one, failures, workers, chunk, while_waiting)


def reread_many(failures: Sequence[StoredFailure], *, workers: int | None = None, chunk: int = CHUNK) -> list[Reread]:
    """`reread_one` of every stored failure, in order; over `workers` processes when there are enough."""
    return _map(reread_one, failures, workers, chunk, None)
