"""A heartbeat thread for work that blocks: it beats for the row while the worker waits on something slow."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connection

from fleetui.common.models import Liveness, heartbeat_interval

logger = logging.getLogger(__name__)


class ClaimLost(Exception):
    """The watchdog took the work back from this worker (it stopped beating for too long): it must write nothing more."""


class Heartbeat:
    """The state of one heartbeat thread: `lost` is set once the row is no longer the worker's claim."""

    def __init__(self) -> None:
        self.lost = threading.Event()
        self.stopped = threading.Event()


@contextmanager
def heartbeat(row: Liveness, *, interval: float | None = None) -> Iterator[Heartbeat]:
    """Beat for `row` every `interval` seconds (default `heartbeat_interval()`) until the block ends.

    The thread stops beating, and sets `lost`, as soon as `row.beat()` answers False. It is a hint only: the
    thread has its own database connection, which does not see the block's uncommitted writes, so the block
    decides by its own `row.beat()` between steps and by fencing its writes with the claim token. A database
    error skips one beat: the next one may pass, and a worker that cannot reach the database for a whole timeout
    is rightly taken for gone.
    """
    state = Heartbeat()
    every = heartbeat_interval() if interval is None else interval

    # Held while a beat is written: the block's end waits for a beat in flight, never for the thread to wake.
    beating = threading.Lock()

    def run() -> None:
        try:
            while not state.stopped.wait(every):
                with beating:
                    if state.stopped.is_set():
                        return
                    try:
                        alive = row.beat()
                    except Exception:
                        logger.warning("could not record a heartbeat for %s", row._meta.label, exc_info=True)
                        continue
                if not alive:
                    state.lost.set()
                    return
        finally:
            # The thread's own database connection: not left open for the server to reap.
            connection.close()

    thread = threading.Thread(target=run, name=f"heartbeat-{row._meta.model_name}-{row.pk}", daemon=True)
    thread.start()
    try:
        yield state
    finally:
        state.stopped.set()
        # No beat after this: one in flight has ended, and the thread sees `stopped` before any other. It exits
        # (closing its connection) on its own, so a short block does not wait for a thread to be scheduled.
        with beating:
            pass
