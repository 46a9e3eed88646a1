"""The clinic web app: server-rendered pages (Jinja2 + HTMX) and the REST API under ``/api/v1``.

Both doors call the same service functions (:mod:`wearoff.web.services`), which call the records repository and
the planner; nothing clinical is computed in a route. Start it with ``wearoff serve``; build it with
:func:`create_app`.
"""

from wearoff.web.app import create_app
from wearoff.web.settings import WebSettings

__all__ = ["WebSettings", "create_app"]
