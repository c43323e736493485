"""Broker transport options: Redis's visibility timeout, and a fast, safe SQLite file for the embedded broker.

Kombu's SQLAlchemy transport hands its transport options to `create_engine`, so the embedded broker's
connections come from `creator`: each opens the file in WAL mode with `synchronous=NORMAL`. A commit then
no longer waits for the disk (SQLite's default rollback journal fsyncs every message, some 20 ms each);
a committed message still survives a killed process, and only a crash of the whole machine can lose the
last ones. Readers and the writer also stop blocking each other, which the web server, the workers and
beat all need on one file.
"""

from __future__ import annotations

import sqlite3
from functools import cache, partial

SQLITE_PREFIX = "sqla+sqlite:///"
# How long an idle worker of the embedded broker waits before it looks for messages again. Kombu's default
# (1 s) also applies between messages whenever a worker's prefetch is full, which held the embedded broker to
# about one task per second per worker.
SQLITE_POLLING_INTERVAL = 0.05


def sqlite_transport_use() -> None:
    """Make `sqla+` URLs use `SQLiteTransport`: kombu's SQLAlchemy transport, polling more often.

    (The interval cannot go in the transport options: that transport hands them all to `create_engine`.)
    """
    from kombu.transport import TRANSPORT_ALIASES

    TRANSPORT_ALIASES["sqla"] = "fleetui.common.broker:SQLiteTransport"
    TRANSPORT_ALIASES["sqlalchemy"] = "fleetui.common.broker:SQLiteTransport"


@cache
def _sqlite_transport() -> type:
    from kombu.transport.sqlalchemy import Transport

    return type("SQLiteTransport", (Transport,), {"polling_interval": SQLITE_POLLING_INTERVAL})


def __getattr__(name: str):
    # Built on first use, so that importing settings does not import kombu's SQLAlchemy transport.
    if name == "SQLiteTransport":
        return _sqlite_transport()
    raise AttributeError(name)


def sqlite_broker_connect(path: str) -> sqlite3.Connection:
    """One connection to the embedded broker's file: WAL, NORMAL sync, and a wait instead of 'database is locked'."""
    conn = sqlite3.connect(path, timeout=30, check_same_thread=False)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    return conn


def transport_options(broker_url: str, *, visibility_timeout: int) -> dict:
    """The `broker_transport_options` for a broker URL."""
    if broker_url.startswith(("redis://", "rediss://")):
        # An acks_late task still running when this passes is handed to a second worker.
        return {"visibility_timeout": visibility_timeout}
    if broker_url.startswith(SQLITE_PREFIX) and broker_url != SQLITE_PREFIX:
        return {"creator": partial(sqlite_broker_connect, broker_url.removeprefix(SQLITE_PREFIX))}
    return {}
