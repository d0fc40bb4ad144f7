"""Supertone's cloud API, served locally under ``/supertone``: its SDK works unchanged.

Supertone's cloud API was shut down on 2026-08-31; code written for its SDK (Python
``supertone``, TypeScript ``@supertone/supertone``, both 0.2.3) speaks again with one
change, ``server_url="http://HOST:PORT/supertone"``. The wire format follows the SDK (where
its docs disagree, the SDK wins): see ``shared/reference/supertone-api.md`` for the
captured requests. One module per job: :mod:`.schemas` (request bodies), :mod:`.errors`
(envelope, API key, route class), :mod:`.paging`, :mod:`.voices` (the preset catalogue),
:mod:`.custom_voices` (the custom voices folder), :mod:`.tts` (speech on the engine),
:mod:`.usage` (counters) and :mod:`.billing` (credits and usage routes).
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import APIRouter, FastAPI

from ..settings import Settings
from . import billing, custom_voices, tts, voices
from .custom_voices import CustomVoiceStore
from .errors import SupertoneError, SupertoneRoute
from .usage import UsageCounters

PREFIX = "/supertone"


@dataclass(eq=False)
class SupertoneState:
    """Kept in ``app.state.supertone``: the usage counters and the custom voices."""

    usage: UsageCounters
    voices: CustomVoiceStore


_fallback = APIRouter(route_class=SupertoneRoute, include_in_schema=False)


@_fallback.api_route("/{path:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
async def unknown_path(path: str) -> None:
    """Any other path under the prefix: 404 in Supertone's envelope, not OpenAI's."""
    raise SupertoneError(404, f"no such Supertone API path: /{path}")


def install(app: FastAPI, settings: Settings, *, voices_off: str | None = None) -> None:
    """Serve Supertone's API under :data:`PREFIX` on ``app`` (``voices_off``: why the server
    has no custom voices folder, if it has none)."""
    store = CustomVoiceStore(settings.voices_dir, unavailable=voices_off)
    app.state.supertone = SupertoneState(UsageCounters(), store)
    for router in (tts.router, voices.router, custom_voices.router, billing.router, _fallback):
        app.include_router(router, prefix=PREFIX)


__all__ = ["PREFIX", "SupertoneState", "install"]
