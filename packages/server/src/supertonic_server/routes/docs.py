"""``GET /docs``: Swagger UI over ``/openapi.json``, from files shipped with the server.

FastAPI's own page loads Swagger UI from a CDN, so without internet it stayed blank; here the
script, style and icon come from the ``swagger-ui-bundle-v2`` package (Swagger UI 5, which
reads the OpenAPI 3.1 schema FastAPI writes), served under ``/docs/assets/``.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse
from supertonic_core.errors import ErrorCode
from swagger_ui_bundle import swagger_ui_path

from ..errors import APIError

router = APIRouter(tags=["docs"], include_in_schema=False)

ASSETS_PATH = "/docs/assets"
#: The files the page loads, and their content types.
ASSETS = {
    "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
    "swagger-ui.css": "text/css; charset=utf-8",
    "favicon-32x32.png": "image/png",
}


@router.get("/docs")
async def docs(request: Request) -> HTMLResponse:
    root = request.scope.get("root_path", "")
    return get_swagger_ui_html(
        openapi_url=root + (request.app.openapi_url or "/openapi.json"),
        title=f"{request.app.title} — API",
        swagger_js_url=f"{root}{ASSETS_PATH}/swagger-ui-bundle.js",
        swagger_css_url=f"{root}{ASSETS_PATH}/swagger-ui.css",
        swagger_favicon_url=f"{root}{ASSETS_PATH}/favicon-32x32.png",
    )


@router.get(ASSETS_PATH + "/{name}")
async def asset(name: str) -> FileResponse:
    if name not in ASSETS:
        raise APIError(ErrorCode.NOT_FOUND, f"Invalid URL (GET {ASSETS_PATH}/{name})")
    return FileResponse(
        Path(swagger_ui_path) / name,
        media_type=ASSETS[name],
        headers={"Cache-Control": "public, max-age=86400"},
    )
