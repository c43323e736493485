"""Extract, mask and sign many failures at once, over several processes when there are many (pure).

Each failure is read on its own, so the work splits into chunks that processes do side by side; the
chunks come back in order, and every answer is the one `prepare_failure` gives for the same failure.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
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


def _prepare_chunk(chunk: list[RawFailure]) -> list[Prepared]:
    return [prepare_one(failure) for failure in chunk]


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


def prepare_many(
    failures: Sequence[RawFailure],
    *,
    workers: int | None = None,
    chunk: int = CHUNK,
    while_waiting: Callable[[], object] | None = None,
) -> list[Prepared]:
    """`prepare_one` of every failure, in order; over `workers` processes when there are enough failures.

    while_waiting runs in this process while the workers work (say, loading what comes next)."""
    workers = default_workers() if workers is None else workers
    if workers <= 1 or len(failures) < MIN_PARALLEL:
        return _prepare_chunk(list(failures))
    chunks = [list(failures[start : start + chunk]) for start in range(0, len(failures), chunk)]
    out: list[Prepared] = []
    with ProcessPoolExecutor(max_workers=workers, mp_context=_context()) as pool:
        parts = pool.map(_prepare_chunk, chunks)
        if while_waiting is not None:
            while_waiting()
        for part in parts:
            out.extend(part)
    return out
