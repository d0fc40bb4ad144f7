"""Custom voices of Supertone's API, kept in the server's custom voices folder.

A custom voice is a Supertonic voice-style JSON file in ``--voices-dir``, the folder the
core already serves custom voices from; its id is the file's stem, and the name and
description the SDK shows live in the same file under the key ``"supertone"`` (the core
ignores keys it does not know), so the folder stays the one source of truth.

``create_cloned_voice`` takes a voice-style JSON upload (what local voice-cloning tools for
Supertonic produce) and stores it under a generated id. Supertonic voices are style
vectors, not recordings: an audio upload is refused with 415 and a message saying which
kind of tool turns a recording into a style file. Without ``--voices-dir`` the folder is
the per-user default (:func:`supertonic_core.voices.default_voices_dir`); only when that
cannot be made do the routes list nothing and refuse creating one with 403, naming why
and the flag.
"""

from __future__ import annotations

import json
import os
import secrets
import threading
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Request, Response, UploadFile
from supertonic_core import Engine
from supertonic_core.voices import parse_style

from ..state import require_engine
from . import paging
from .errors import SupertoneError, SupertoneRoute, documented
from .schemas import CustomVoiceEdit
from .voices import terms_match

router = APIRouter(
    route_class=SupertoneRoute,
    tags=["supertone"],
    responses=documented(400, 401, 403, 404, 413, 415, 503),
)

META_KEY = "supertone"
UPLOAD_LIMIT = 3 * 1024 * 1024  # the cloud's documented upload limit
NAME_LIMIT = 100
_AUDIO_MAGIC = (b"RIFF", b"ID3", b"\xff\xfb", b"\xff\xf3", b"\xff\xfa", b"OggS", b"fLaC")
_AUDIO_SUFFIXES = (".wav", ".mp3", ".ogg", ".opus", ".flac", ".m4a", ".aac", ".webm")
NEEDS_TOOL = (
    "cloning a voice from audio is not done by this server: a Supertonic voice is a style "
    "file (style_ttl and style_dp arrays), not a recording. Turn the recording into a "
    "Supertonic voice-style JSON with a voice-cloning tool (a Supertonic style encoder, "
    "such as the community's local voice-builder tools) and upload that JSON file instead"
)


class CustomVoiceStore:
    """The custom voices of one server: its folder, and their names and descriptions.

    Why a cache: a style file is a few hundred kilobytes, and listing must not read them
    all; the metadata of each voice is read once, then kept (every change goes through
    here). Thread-safe: one lock around the cache and every write.
    """

    def __init__(self, folder: str | None, *, unavailable: str | None = None) -> None:
        self.folder = Path(folder) if folder else None
        self.unavailable = unavailable
        self._meta: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()

    def voice(self, engine: Engine, voice_id: str) -> dict[str, Any]:
        """The ``CustomVoice`` object of ``voice_id``, or 404."""
        if voice_id not in engine.voices.custom:
            raise SupertoneError(404, f"custom voice {voice_id!r} not found")
        with self._lock:
            meta = self._meta.get(voice_id)
            if meta is None:
                meta = self._meta[voice_id] = self._read_meta(voice_id)
        return {"voice_id": voice_id, **meta}

    def all(self, engine: Engine) -> list[dict[str, Any]]:
        return [self.voice(engine, v) for v in sorted(engine.voices.custom)]

    def create(
        self, engine: Engine, data: bytes, filename: str, name: str, description: str | None
    ) -> str:
        """Validate ``data`` as a style file, store it under a new id, serve it; the id."""
        folder = self._require_folder()
        try:
            obj = json.loads(data)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise SupertoneError(
                400, f"{filename!r} is not a Supertonic voice-style JSON file ({exc})"
            ) from None
        voice_id = f"cv{secrets.token_hex(8)}"
        parse_style(obj, name=voice_id, source=filename)  # a bad file fails here, with why
        meta = {"name": name, "description": description}
        obj[META_KEY] = meta
        path = folder / f"{voice_id}.json"
        with self._lock:
            _write_atomic(path, obj)
            try:
                engine.voices.add(voice_id, path)
            except BaseException:
                path.unlink(missing_ok=True)
                raise
            self._meta[voice_id] = meta
        return voice_id

    def edit(self, engine: Engine, voice_id: str, changes: dict[str, Any]) -> dict[str, Any]:
        self.voice(engine, voice_id)  # 404 first
        path = self._path(voice_id)
        with self._lock:
            obj = json.loads(path.read_text(encoding="utf-8"))
            meta = {**self._meta[voice_id], **changes}
            obj[META_KEY] = meta
            _write_atomic(path, obj)
            self._meta[voice_id] = meta
        return {"voice_id": voice_id, **meta}

    def delete(self, engine: Engine, voice_id: str) -> None:
        self.voice(engine, voice_id)  # 404 first
        with self._lock:
            engine.voices.remove(voice_id)
            self._path(voice_id).unlink(missing_ok=True)
            self._meta.pop(voice_id, None)

    def _require_folder(self) -> Path:
        if self.folder is None:
            why = f" ({self.unavailable})" if self.unavailable else ""
            raise SupertoneError(
                403,
                f"this server has no custom voices folder{why}: start it with --voices-dir "
                "DIR (or SUPERTONIC_VOICES_DIR) to store custom voices",
            )
        return self.folder

    def _path(self, voice_id: str) -> Path:
        return self._require_folder() / f"{voice_id}.json"

    def _read_meta(self, voice_id: str) -> dict[str, Any]:
        try:
            obj = json.loads(self._path(voice_id).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            obj = {}
        meta = obj.get(META_KEY) if isinstance(obj, dict) else None
        meta = meta if isinstance(meta, dict) else {}
        name = meta.get("name")
        description = meta.get("description")
        return {
            "name": name if isinstance(name, str) and name else voice_id,
            "description": description if isinstance(description, str) else None,
        }


def _write_atomic(path: Path, obj: Any) -> None:
    """Write ``obj`` as JSON so that a reader never sees half a file."""
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    tmp.write_text(json.dumps(obj), encoding="utf-8")
    os.replace(tmp, path)


def _looks_like_audio(upload: UploadFile, head: bytes) -> bool:
    kind = (upload.content_type or "").lower()
    name = (upload.filename or "").lower()
    return (
        kind.startswith(("audio/", "video/"))
        or name.endswith(_AUDIO_SUFFIXES)
        or head.startswith(_AUDIO_MAGIC)
    )


def store(request: Request) -> CustomVoiceStore:
    return request.app.state.supertone.voices


@router.post("/v1/custom-voices/cloned-voice", summary="Create a custom voice (Supertone)")
async def create_cloned_voice(
    request: Request,
    files: Annotated[UploadFile, File(description="A Supertonic voice-style JSON file.")],
    name: Annotated[str, Form(description=f"Up to {NAME_LIMIT} characters.")],
    description: Annotated[str | None, Form()] = None,
) -> dict[str, str]:
    engine = require_engine(request)
    if not name.strip() or len(name) > NAME_LIMIT:
        raise SupertoneError(400, f"name must be 1 to {NAME_LIMIT} characters, got {len(name)}")
    data = await files.read(UPLOAD_LIMIT + 1)
    if len(data) > UPLOAD_LIMIT:
        raise SupertoneError(413, f"the upload is over the {UPLOAD_LIMIT // 2**20} MB limit")
    if _looks_like_audio(files, data[:4]):
        raise SupertoneError(415, NEEDS_TOOL)
    filename = files.filename or "upload"
    voice_id = store(request).create(engine, data, filename, name.strip(), description)
    return {"voice_id": voice_id}


@router.get("/v1/custom-voices", summary="List custom voices (Supertone)")
async def list_custom_voices(
    request: Request, page_size: float | None = None, next_page_token: str | None = None
) -> dict[str, Any]:
    voices = store(request).all(require_engine(request))
    return paging.page(voices, page_size, next_page_token, paging.VOICES)


@router.get("/v1/custom-voices/search", summary="Search custom voices (Supertone)")
async def search_custom_voices(
    request: Request,
    page_size: float | None = None,
    next_page_token: str | None = None,
    name: str | None = None,
    description: str | None = None,
) -> dict[str, Any]:
    voices = [
        v
        for v in store(request).all(require_engine(request))
        if terms_match(v["name"], name) and terms_match(v["description"], description)
    ]
    return paging.page(voices, page_size, next_page_token, paging.VOICES)


@router.get("/v1/custom-voices/{voice_id}", summary="Get a custom voice (Supertone)")
async def get_custom_voice(request: Request, voice_id: str) -> dict[str, Any]:
    return store(request).voice(require_engine(request), voice_id)


@router.patch("/v1/custom-voices/{voice_id}", summary="Edit a custom voice (Supertone)")
async def edit_custom_voice(
    request: Request, voice_id: str, body: CustomVoiceEdit
) -> dict[str, Any]:
    changes = body.model_dump(exclude_unset=True)
    if "name" in changes and changes["name"] is None:
        raise SupertoneError(400, "name cannot be null: give a new name or leave it out")
    return store(request).edit(require_engine(request), voice_id, changes)


@router.delete(
    "/v1/custom-voices/{voice_id}", status_code=204, summary="Delete a custom voice (Supertone)"
)
async def delete_custom_voice(request: Request, voice_id: str) -> Response:
    store(request).delete(require_engine(request), voice_id)
    return Response(status_code=204)
