"""The HTTP routes, one router per module; :func:`routers` is the list the app serves."""

from __future__ import annotations

from fastapi import APIRouter

from ..settings import Settings
from . import catalog, docs, health, metrics, speech, ui, ws


def routers(settings: Settings) -> list[APIRouter]:
    """Every router the app includes, in order.

    Other transports plug in here: the WebSocket router only when ``settings.ws_enabled``,
    the console only when ``settings.ui_enabled``, the metrics router and ``/docs`` always.
    """
    found = [health.router, docs.router, catalog.router, speech.router, metrics.router]
    if settings.ws_enabled:
        found.append(ws.router)
    if settings.ui_enabled:
        found.append(ui.router)
    return found
