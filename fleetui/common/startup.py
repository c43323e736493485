"""What a web server process does once it has loaded the application, before its first request.

Every page's views, templates' tags and the libraries they import make a heap of about 150,000 long-lived
objects, and each full (oldest-generation) garbage collection walks all of them: on a 2-core machine that is
80 to 140 ms added to whichever request happens to trigger it, which is what a page's p95 shows. Loading the
URLconf (and so every view module) up front and then freezing the heap (`gc.freeze()`) takes those objects out
of every later collection; what requests create is collected as before.

The broker's transport is loaded then too: kombu imports it on the first message a process sends, and the
embedded broker's (kombu's SQLAlchemy transport, and SQLAlchemy with it) took 2 to 6 s, which the first rerun
request of every server process waited for; so is Celery's task registry, which the first task sent builds.
Nothing connects to the broker here.
"""

from __future__ import annotations

import gc
import logging

logger = logging.getLogger(__name__)


def server_heap_freeze() -> int:
    """Import every view through the URLconf, collect once, and freeze what is left; returns how many objects
    are now frozen. Safe to call again: later calls freeze what was loaded since."""
    from django.urls import get_resolver

    try:
        patterns = get_resolver().url_patterns  # imports the URLconf and, through it, every view module
        logger.debug("loaded %d URL patterns before the first request", len(patterns))
    except Exception:  # a broken URLconf is reported by the first request, with Django's own error
        logger.exception("the URLconf could not be loaded before the first request")
    broker_transport_load()
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()


def broker_transport_load() -> str | None:
    """Import the configured broker's transport class without connecting; its name, or None if it cannot load
    (the first task sent then reports why, as it always did)."""
    try:
        from celery import current_app  # the project's app, which makes itself current when it is created

        transport = current_app.connection_for_write().get_transport_cls()
        current_app.finalize(auto=True)  # the task registry, which the first task sent would build
    except Exception:
        logger.exception("the broker's transport could not be loaded before the first request")
        return None
    return f"{transport.__module__}.{transport.__qualname__}"
