"""Supertone's text-to-speech: create, stream and predict-duration, on the core's engine.

* ``POST /v1/text-to-speech/{voice_id}``: the whole file (``audio/wav`` with exact sizes,
  or ``audio/mpeg``) with ``X-Audio-Length`` in seconds; with ``include_phonemes``, JSON
  ``{"audio_base64", "phonemes"}``.
* ``POST /v1/text-to-speech/{voice_id}/stream``: the audio as it is synthesized, the first
  piece carrying the file header (a WAV header whose sizes are ``0xFFFFFFFF``, "until the
  end of the stream", then raw PCM; or MP3 frames); with ``include_phonemes``,
  ``application/x-ndjson``, one line per synthesized chunk, the header only in the first.
* ``POST /v1/predict-duration/{voice_id}``: ``{"duration"}`` from the duration predictor
  alone (no synthesis, no credits).

The reply format follows the body (``include_phonemes``, ``output_format``), never the
``Accept`` header: the SDK's own ``Accept`` even says ``audio/wav;q=0``. The model reads
characters and has no phonemes, so ``phonemes`` are the characters of the text with times
estimated by the core's timing module (``""`` marks a pause); they are labelled estimated
in the README. Synthesis, encoding and sending are the server's own (the engine's
streams, :mod:`~supertonic_server.encoders`, :mod:`~supertonic_server.streaming`); this
module maps Supertone's fields onto them and counts the usage.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import struct
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from supertonic_core import AudioChunk, Engine, SynthesisOptions, UnknownVoiceError
from supertonic_core.options import SPEED_RANGE
from supertonic_core.timing import estimate_character_timings

from ..auth import key_matches
from ..encoders import create_encoder
from ..state import require_engine
from ..streaming import SpeechResponse, SpeechStreamer, open_streamer
from .billing import counters, require_credits
from .errors import KEY_HEADER, SupertoneError, SupertoneRoute, documented
from .schemas import TEXT_LIMIT, PredictRequest, TTSRequest, VoiceSettings
from .usage import UsageKey
from .voices import STYLES

logger = logging.getLogger("supertonic_server")
router = APIRouter(
    route_class=SupertoneRoute,
    tags=["supertone"],
    responses=documented(400, 401, 402, 404, 413, 429, 503),
)

NDJSON = "application/x-ndjson"


@dataclass(frozen=True)
class Plan:
    """One request mapped onto the engine: options, output format, and its usage key."""

    opts: SynthesisOptions
    fmt: str
    usage: UsageKey


def _voice(request: Request, engine: Engine, voice_id: str) -> tuple[str, str]:
    """The canonical voice and its display name, or 404 for an unknown ``voice_id``."""
    try:
        voice = engine.voices.describe(voice_id)
    except UnknownVoiceError as exc:
        raise SupertoneError(404, f"voice_id {voice_id!r} not found: {exc}") from None
    if voice in engine.voices.custom:
        return voice, request.app.state.supertone.voices.voice(engine, voice)["name"]
    return voice, voice


def _key_label(request: Request) -> str:
    """Which of the server's keys the request used (``key-1``...), never the key itself."""
    presented = request.headers.get(KEY_HEADER, "").strip()
    keys = request.app.state.settings.api_keys
    for number, key in enumerate(keys, 1):
        if presented and key_matches(presented, (key,)):
            return f"key-{number}"
    return "open" if not keys else "unknown"


async def _speed(engine: Engine, text: str, opts: SynthesisOptions, vs: VoiceSettings) -> float:
    """``voice_settings.speed`` after ``duration``: the pace that makes about ``duration``
    seconds, then faster or slower by ``speed`` (1 is the model's natural pace)."""
    if not vs.duration:
        return vs.speed
    natural = await asyncio.to_thread(
        engine.predict_duration, text, opts.model_copy(update={"speed": 1.0})
    )
    speed = vs.speed * natural / vs.duration
    lo, hi = SPEED_RANGE
    if not lo <= speed <= hi:
        raise SupertoneError(
            400,
            f"voice_settings.duration {vs.duration:g} s with speed {vs.speed:g} needs the "
            f"model to speak at {speed:.2f}x its natural pace ({natural:.2f} s), beyond its "
            f"{lo}..{hi}: ask for a duration nearer {natural / vs.speed:.1f} s",
        )
    return speed


async def plan(request: Request, engine: Engine, voice_id: str, body: PredictRequest) -> Plan:
    """Check everything before any audio: length, voice (404), language, text, speed."""
    if len(body.text) > TEXT_LIMIT:
        raise SupertoneError(
            400,
            f"text is {len(body.text)} characters long; the limit is {TEXT_LIMIT} per request "
            "(the SDK splits longer text itself)",
        )
    voice, name = _voice(request, engine, voice_id)
    opts = engine.options(voice=voice, lang=body.language, speed=1.0)
    engine.check_text(body.text, opts.lang)
    speed = await _speed(engine, body.text, opts, body.voice_settings or VoiceSettings())
    opts = engine.options(voice=voice, lang=body.language, speed=speed)
    fmt = body.output_format or request.query_params.get("output_format") or "wav"
    if fmt not in ("wav", "mp3"):
        raise SupertoneError(400, f"output_format must be wav or mp3, got {fmt!r}")
    style = body.style if body.style in STYLES else STYLES[0]
    key = UsageKey(voice, name, body.model, style, opts.lang, _key_label(request))
    return Plan(opts, fmt, key)


def _start(request: Request, engine: Engine, body: TTSRequest, p: Plan) -> SpeechStreamer:
    """Open the synthesis stream; its usage is counted when it closes."""
    require_credits(request)
    logger.log(
        logging.WARNING if engine.synthetic else logging.INFO,
        "supertone speech voice=%s lang=%s speed=%.3g format=%s chars=%d phonemes=%s%s",
        p.usage.voice_id,
        p.opts.lang,
        p.opts.speed,
        p.fmt,
        len(body.text),
        body.include_phonemes,
        " [SYNTHETIC MODEL: random weights, the audio is noise]" if engine.synthetic else "",
    )

    def count(streamer: SpeechStreamer) -> None:
        if streamer.audio_s > 0:
            counters(request).record(p.usage, characters=len(body.text), seconds=streamer.audio_s)

    encoder = create_encoder(p.fmt, engine.sample_rate)
    return open_streamer(
        request, engine, p.opts, body.text, encoder, voice=p.usage.voice_id, format=p.fmt,
        on_close=count,
    )  # fmt: skip


def phonemes(chunks: Iterable[AudioChunk]) -> dict[str, list[Any]]:
    """Supertone's ``phonemes``: each character of the chunks' text with estimated times."""
    out: dict[str, list[Any]] = {"symbols": [], "start_times_seconds": [], "durations_seconds": []}
    for chunk in chunks:
        end = chunk.offset + chunk.duration
        for t in estimate_character_timings(chunk.words, start=chunk.offset, end=end):
            out["symbols"].append(t.symbol)
            out["start_times_seconds"].append(round(t.start, 4))
            out["durations_seconds"].append(round(t.duration, 4))
    return out


def sized_wav(data: bytes) -> bytes:
    """A streamed WAV (sizes ``0xFFFFFFFF``) with its real RIFF and data sizes filled in."""
    return data[:4] + struct.pack("<I", len(data) - 8) + data[8:40] + struct.pack("<I", len(data) - 44) + data[44:]  # fmt: skip


def _headers(engine: Engine, p: Plan) -> dict[str, str]:
    return {
        "X-Sample-Rate": str(engine.sample_rate),
        "X-Voice": p.usage.voice_id,
        "X-Synthetic-Model": "true" if engine.synthetic else "false",
        "Cache-Control": "no-store",
    }


_CREATED = {200: {"description": "The whole file, or JSON with phonemes.", "content": {"audio/wav": {}, "audio/mpeg": {}, "application/json": {}}}}  # fmt: skip
_STREAMED = {200: {"description": "Audio as it is synthesized, or NDJSON with phonemes.", "content": {"audio/wav": {}, "audio/mpeg": {}, NDJSON: {}}}}  # fmt: skip


@router.post(
    "/v1/text-to-speech/{voice_id}",
    summary="Create speech (Supertone)",
    response_class=Response,
    responses=_CREATED,
)
async def create_speech(request: Request, voice_id: str, body: TTSRequest) -> Response:
    engine = require_engine(request)
    p = await plan(request, engine, voice_id, body)
    streamer = _start(request, engine, body, p)
    parts: list[bytes] = []
    chunks: list[AudioChunk] = []
    try:
        async for data in streamer.audio():
            parts.append(data)
            if streamer.chunk is not None and streamer.chunks > len(chunks):
                chunks.append(streamer.chunk)
    finally:
        streamer.close()
    if not streamer.complete:
        raise SupertoneError(500, "synthesis did not complete; the details are in the server log")
    audio = b"".join(parts)
    if p.fmt == "wav":
        audio = sized_wav(audio)
    headers = {**_headers(engine, p), "X-Audio-Length": f"{streamer.audio_s:.3f}"}
    if body.include_phonemes:
        payload = {"audio_base64": base64.b64encode(audio).decode(), "phonemes": phonemes(chunks)}
        return Response(json.dumps(payload), media_type="application/json", headers=headers)
    return Response(audio, media_type=streamer.encoder.media_type, headers=headers)


async def _ndjson(streamer: SpeechStreamer) -> AsyncIterator[bytes]:
    """One line per piece of audio; each chunk's phonemes ride on its first piece."""
    described = 0
    async for data in streamer.audio():
        fresh = [streamer.chunk] if streamer.chunk and streamer.chunks > described else []
        described = streamer.chunks
        line = {"audio_base64": base64.b64encode(data).decode(), "phonemes": phonemes(fresh)}
        yield json.dumps(line, separators=(",", ":")).encode() + b"\n"


@router.post(
    "/v1/text-to-speech/{voice_id}/stream",
    summary="Stream speech (Supertone)",
    response_class=Response,
    responses=_STREAMED,
)
async def stream_speech(request: Request, voice_id: str, body: TTSRequest) -> Response:
    engine = require_engine(request)
    p = await plan(request, engine, voice_id, body)
    streamer = _start(request, engine, body, p)
    headers = {**_headers(engine, p), "X-Accel-Buffering": "no"}
    if body.include_phonemes:
        return SpeechResponse(
            streamer, sse=False, headers=headers, body=_ndjson(streamer), media_type=NDJSON
        )
    return SpeechResponse(streamer, sse=False, headers=headers)


@router.post("/v1/predict-duration/{voice_id}", summary="Predict duration (Supertone)")
async def predict_duration(
    request: Request, voice_id: str, body: PredictRequest
) -> dict[str, float]:
    engine = require_engine(request)
    p = await plan(request, engine, voice_id, body)
    seconds = await asyncio.to_thread(engine.predict_duration, body.text, p.opts)
    return {"duration": round(seconds, 3)}
