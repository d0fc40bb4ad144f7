"""The web console: ``GET /`` (one page), its script and style, and the defaults it starts from.

The page is plain HTML, CSS and JavaScript shipped inside the package (``static/``): no build
step, nothing fetched from another host (the Content-Security-Policy forbids it). It talks
to the same API as any client. Mounted only when ``settings.ui_enabled`` (``--no-ui``).
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from supertonic_core.errors import ErrorCode
from supertonic_core.options import SPEED_RANGE, STEPS_RANGE

from ..errors import APIError
from ..schemas import NATIVE_MODEL, ResponseFormat
from ..settings import Settings
from ..version import __version__

router = APIRouter(tags=["console"], include_in_schema=False)

STATIC = files("supertonic_server") / "static"
_TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}
#: Every file the page loads (``/ui/<name>``), and its content type.
ASSETS = {
    f.name: _TYPES[f.name[f.name.rindex(".") :]]
    for f in STATIC.iterdir()
    if f.name.endswith(tuple(_TYPES))
}
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
    "img-src 'self' data: blob:; media-src 'self' blob:; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'none'"
)
_HEADERS = {
    "Cache-Control": "no-cache",
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


def asset(name: str) -> bytes:
    return (STATIC / name).read_bytes()


@router.get("/")
async def console() -> HTMLResponse:
    return HTMLResponse(asset("console.html"), headers=_HEADERS)


@router.get("/ui/config.json")
async def config(request: Request) -> dict[str, Any]:
    """What the page needs to start: ranges, defaults, formats, whether a key is needed."""
    settings: Settings = request.app.state.settings
    return {
        "version": __version__,
        "model": NATIVE_MODEL,
        "api_key_required": bool(settings.api_keys),
        "formats": list(ResponseFormat.__args__),  # type: ignore[attr-defined]
        "speed_range": list(SPEED_RANGE),
        "steps_range": list(STEPS_RANGE),
        "defaults": {**settings.synthesis_defaults().model_dump(), "format": "mp3"},
        "max_input_chars": settings.max_input_chars,
        "lexicons": [Path(path).stem for path in settings.lexicon_files],
        "ws_enabled": settings.ws_enabled,
        "supertone_enabled": settings.supertone_enabled,
    }


@router.get("/ui/{name}")
async def static_asset(name: str) -> Response:
    if name not in ASSETS:
        raise APIError(ErrorCode.NOT_FOUND, f"Invalid URL (GET /ui/{name})")
    return Response(asset(name), media_type=ASSETS[name], headers=_HEADERS)
