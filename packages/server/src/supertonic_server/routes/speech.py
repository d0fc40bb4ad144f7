"""``POST /v1/audio/speech``: OpenAI's text-to-speech, streamed as each chunk is ready.

Everything is checked before the first byte (model, length, voice, language, speed, steps,
rate, characters, capacity), so a bad request is always a clean 4xx and a 200 always
carries audio. The route only adapts HTTP to the core: options, a synthesis stream, an
encoder; :mod:`supertonic_server.streaming` does the sending.
"""

from __future__ import annotations

import logging

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse
from supertonic_core import Engine, SynthesisOptions
from supertonic_core.audio import check_sample_rate
from supertonic_core.detect import detect
from supertonic_core.errors import ErrorCode
from supertonic_core.options import OPTION_NAMES

from ..encoders import MEDIA_TYPES, OPUS_RATE, create_encoder
from ..errors import APIError, error_responses
from ..instructions import speed_from_instructions
from ..schemas import SpeechRequest
from ..settings import Settings
from ..state import require_engine
from ..streaming import SpeechResponse, open_streamer

logger = logging.getLogger("supertonic_server")
router = APIRouter(tags=["speech"])

_AUDIO = {
    200: {
        "description": "Audio, streamed (chunked) as it is synthesized; or SSE events.",
        "content": {**{t: {} for t in MEDIA_TYPES.values()}, "text/event-stream": {}},
    }
}


def output_rate(body: SpeechRequest, settings: Settings, native: int) -> int:
    """The rate the client gets: asked for, else 24 kHz pcm / 48 kHz opus / native."""
    if body.sample_rate is not None:
        check_sample_rate(body.sample_rate)
    if body.response_format == "opus":
        if body.sample_rate not in (None, OPUS_RATE):
            raise APIError(
                ErrorCode.INVALID_VALUE,
                f"sample_rate {body.sample_rate} is not available for opus: Ogg/Opus is always "
                f"decoded at {OPUS_RATE} Hz; omit sample_rate or choose another format",
                param="sample_rate",
            )
        return OPUS_RATE
    if body.sample_rate is not None:
        return body.sample_rate
    return settings.pcm_sample_rate if body.response_format == "pcm" else native


def resolve_options(body: SpeechRequest, engine: Engine) -> tuple[SynthesisOptions, str | None]:
    """Validated options for the request, and how the language was chosen if ``auto``."""
    lang, detection = body.lang, None
    if lang is not None and lang.strip().lower() == "auto":
        lang, detection = detect(body.input, engine.languages, engine.defaults.lang)
    speed = body.speed
    if speed is None:
        speed = speed_from_instructions(body.instructions, engine.defaults.speed)
    elif body.instructions:
        logger.debug("explicit speed given: pace words in instructions are not used")
    given = body.model_dump(include=set(OPTION_NAMES))
    opts = engine.options(**{**given, "voice": body.voice_name, "lang": lang, "speed": speed})
    engine.check_text(body.input, opts.lang, normalize=opts.normalize)
    return opts, detection


@router.post(
    "/v1/audio/speech",
    summary="Create speech (OpenAI-compatible)",
    response_class=StreamingResponse,
    responses={**_AUDIO, **error_responses(400, 401, 408, 429, 503)},
)
async def create_speech(body: SpeechRequest, request: Request) -> StreamingResponse:
    engine = require_engine(request)
    settings: Settings = request.app.state.settings

    if len(body.input) > settings.max_input_chars:
        raise APIError(
            ErrorCode.INPUT_TOO_LONG,
            f"input is {len(body.input)} characters long; the limit is "
            f"{settings.max_input_chars} (split the text, or raise --max-input-chars)",
            param="input",
        )
    opts, detection = resolve_options(body, engine)
    rate = output_rate(body, settings, engine.sample_rate)
    encoder = create_encoder(body.response_format, rate)
    voice = engine.voices.describe(opts.voice)
    synthetic = engine.synthetic is not None
    logger.log(
        logging.WARNING if synthetic else logging.INFO,
        "speech request model=%s voice=%s lang=%s%s speed=%s steps=%d format=%s/%s rate=%d "
        "chars=%d instructions=%s%s",
        body.model,
        voice,
        opts.lang,
        f"({detection})" if detection else "",
        opts.speed,
        opts.steps,
        body.response_format,
        body.stream_format,
        rate,
        len(body.input),
        len(body.instructions or ""),
        " [SYNTHETIC MODEL: random weights, the audio is noise]" if synthetic else "",
    )

    streamer = open_streamer(
        request, engine, opts, body.input, encoder, voice=voice, format=body.response_format
    )
    headers = {
        "X-Sample-Rate": str(rate),
        "X-Voice": voice,
        "X-Language": opts.lang,
        "X-Audio-Encoding": encoder.encoding,
        "X-Speed": f"{opts.speed:g}",
        "X-Synthetic-Model": "true" if synthetic else "false",
        "Cache-Control": "no-store",
    }
    if detection:
        headers["X-Language-Detection"] = detection
    if body.stream_format == "sse":
        headers["X-Accel-Buffering"] = "no"
    return SpeechResponse(streamer, sse=body.stream_format == "sse", headers=headers)
