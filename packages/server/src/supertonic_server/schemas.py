"""The request body of ``POST /v1/audio/speech``: OpenAI's fields plus a few extensions.

Pydantic checks types and the fixed value sets here; everything that depends on the loaded
model (voices, languages, ranges, characters) is checked by the engine before any audio is
sent. Unknown fields are refused (400 ``unknown_parameter``), like OpenAI does, so a typo
such as ``"sped"`` never passes unnoticed. Types are strict, as OpenAI's are: ``"1.0"`` is
not a speed and ``true`` is not a step count. Every string must be valid Unicode: JSON can
carry a lone surrogate (``"\\ud800"``), which no reply, log or model input can encode.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator
from pydantic_core import PydanticCustomError
from supertonic_core.errors import quote_value

NATIVE_MODEL = "supertonic-3"
#: Model names accepted, all served by the one loaded model.
MODEL_ALIASES = ("tts-1", "tts-1-hd", "gpt-4o-mini-tts")
_DATED = re.compile(r"^(tts-1|tts-1-hd|gpt-4o-mini-tts)-(\d{4}|\d{4}-\d{2}-\d{2})$")

ResponseFormat = Literal["mp3", "opus", "aac", "flac", "wav", "pcm"]
StreamFormat = Literal["audio", "sse"]


def accepted_model(name: str) -> bool:
    return name == NATIVE_MODEL or name in MODEL_ALIASES or bool(_DATED.match(name))


def _unicode(value: str) -> str:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        # the message is the handler's (errors.NOT_UNICODE), which names the field
        raise PydanticCustomError("supertonic_invalid_unicode", "not valid Unicode") from None
    return value


#: A string field: strict (no number or boolean turned into text) and valid Unicode.
Text = Annotated[str, Field(strict=True), AfterValidator(_unicode)]


class VoiceRef(BaseModel):
    """OpenAI's custom-voice object: ``{"id": "..."}``; the id is resolved like a voice name."""

    model_config = ConfigDict(extra="forbid")
    id: Text


class SpeechRequest(BaseModel):
    """Body of ``POST /v1/audio/speech``."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "model": "supertonic-3",
                    "input": "Hello, world.",
                    "voice": "alloy",
                    "response_format": "mp3",
                }
            ]
        },
    )

    model: Text = Field(
        NATIVE_MODEL,
        description="supertonic-3, or OpenAI's tts-1, tts-1-hd, gpt-4o-mini-tts (and their dated "
        "variants such as gpt-4o-mini-tts-2025-12-15), all served by Supertonic-3.",
    )
    input: Text = Field(description="Text to speak; at most --max-input-chars characters (4096).")
    voice: Text | VoiceRef | None = Field(
        None,
        description="Preset (F1-F5, M1-M5), OpenAI name (alloy, ash, ...), custom voice, blend "
        "like 'F1*0.7+M2*0.3', or {'id': ...}. Default: the server's --voice.",
    )
    instructions: Text | None = Field(
        None,
        description="Style prompt. Supertonic has no prompt input: only the pace words "
        "'very slow', 'slow', 'fast', 'very fast' (and 'slowly', 'quickly', ...) are used, to "
        "set the speed when 'speed' is not given; the rest is ignored (and logged).",
    )
    response_format: ResponseFormat = Field("mp3", description="Container/codec of the audio.")
    speed: float | None = Field(
        None,
        strict=True,
        description="0.5..2.0 (the model's range; OpenAI's 0.25..4.0 beyond it is refused with "
        "400). Default: the server's --speed (1.05).",
    )
    stream_format: StreamFormat = Field(
        "audio", description="'audio': raw bytes, chunked; 'sse': speech.audio.delta events."
    )
    lang: Text | None = Field(
        None,
        description="Extension: language code (31 + 'na'), or 'auto' to detect it from the text. "
        "Default: the server's --lang.",
    )
    total_steps: int | None = Field(
        None,
        strict=True,
        description="Extension: flow-matching steps, 1..32 (fewer = faster). Default 8.",
    )
    first_chunk_steps: int | None = Field(
        None,
        strict=True,
        description="Extension: steps for the first chunk only ('fast start'), 1..32: the first "
        "audio comes sooner, the first phrase is slightly less expressive. Default: the "
        "server's --first-chunk-steps (4; never more than total_steps, which turns it off).",
    )
    sample_rate: int | None = Field(
        None,
        strict=True,
        description="Extension: output rate, one of 8000, 16000, 22050, 24000, 44100, 48000. "
        "Default: 24000 for pcm (OpenAI's), 48000 for opus, 44100 (native) otherwise.",
    )
    seed: int | None = Field(
        None, ge=0, strict=True, description="Extension: same seed, same audio."
    )
    normalize: bool | None = Field(
        None,
        strict=True,
        description="Extension: read the text the way a person would (numbers, currency, dates, "
        "times, units, phone numbers, markdown, links, URLs, [pause:500ms] and <break/> tags). "
        "false sends the text as written. Default: the server's --normalize (on).",
    )
    emoji: Literal["remove", "name"] | None = Field(
        None,
        description="Extension: with normalize, drop emoji ('remove') or read their names "
        "('name', where the language has emoji names). Default: the server's --emoji (remove).",
    )

    @field_validator("model")
    @classmethod
    def _known_model(cls, value: str) -> str:
        if not accepted_model(value):
            accepted = ", ".join((NATIVE_MODEL, *MODEL_ALIASES))
            raise PydanticCustomError(
                "supertonic_invalid_model",
                "unknown model {model}; accepted: {accepted} (and dated variants such as "
                "gpt-4o-mini-tts-2025-12-15)",
                {"model": quote_value(value), "accepted": accepted},
            )
        return value

    @property
    def voice_name(self) -> str | None:
        return self.voice.id if isinstance(self.voice, VoiceRef) else self.voice
