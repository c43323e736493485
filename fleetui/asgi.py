"""The ASGI entry point: the application, loaded whole and its heap frozen before the first request."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fleetui.settings")
application = get_asgi_application()

from fleetui.common.startup import server_heap_freeze  # noqa: E402  (needs the settings above)

server_heap_freeze()
