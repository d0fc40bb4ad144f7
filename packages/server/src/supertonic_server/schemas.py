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
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic_core import PydanticCustomError
from supertonic_core.errors import quote_value
from supertonic_core.options import SynthesisOverrides, Text

NATIVE_MODEL = "supertonic-3"
#: Model names accepted, all served by the one loaded model.
MODEL_ALIASES = ("tts-1", "tts-1-hd", "gpt-4o-mini-tts")
_DATED = re.compile(r"^(tts-1|tts-1-hd|gpt-4o-mini-tts)-(\d{4}|\d{4}-\d{2}-\d{2})$")

ResponseFormat = Literal["mp3", "opus", "aac", "flac", "wav", "pcm"]
StreamFormat = Literal["audio", "sse"]


def accepted_model(name: str) -> bool:
    return name == NATIVE_MODEL or name in MODEL_ALIASES or bool(_DATED.match(name))


class VoiceRef(BaseModel):
    """OpenAI's custom-voice object: ``{"id": "..."}``; the id is resolved like a voice name."""

    model_config = ConfigDict(extra="forbid")
    id: Text


class SpeechRequest(SynthesisOverrides):  # type: ignore[misc, valid-type]
    """Body of ``POST /v1/audio/speech``: OpenAI's fields, and every synthesis option of the
    core's model (each optional: left out, the server's default), with its checks."""

    model_config = ConfigDict(
        extra="forbid",
        strict=False,
        frozen=False,
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
    voice: Text | VoiceRef | None = Field(  # type: ignore[assignment]
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
    stream_format: StreamFormat = Field(
        "audio", description="'audio': raw bytes, chunked; 'sse': speech.audio.delta events."
    )
    sample_rate: int | None = Field(
        None,
        strict=True,
        description="Extension: output rate, one of 8000, 16000, 22050, 24000, 44100, 48000. "
        "Default: 24000 for pcm (OpenAI's), 48000 for opus, 44100 (native) otherwise.",
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
