"""Request bodies of Supertone's API, as the ``supertone`` SDK 0.2.3 sends them.

The SDK validates the enums on the client, so these refuse only what a hand-written
request gets wrong; ranges follow the cloud's documentation (a value outside gives 400).
Of ``voice_settings`` only ``speed`` and ``duration`` reach the model: Supertonic has no
pitch, similarity, guidance or subharmonic controls, so the rest are accepted and have no
effect (the README says so). ``style`` and ``model`` are accepted for the same reason: one
model serves every name, and its voices have one style each.
"""

from __future__ import annotations

from typing import Literal, get_args

from pydantic import BaseModel, ConfigDict, Field

from ..schemas import Text

#: The cloud's limit per request; the SDK splits longer text itself.
TEXT_LIMIT = 300

#: The 31 language codes of the SDK's enum (Supertonic-3 speaks the same 31).
Language = Literal[
    "en", "ko", "ja", "bg", "cs", "da", "el", "es", "et", "fi", "hu", "it", "nl", "pl", "pt",
    "ro", "ar", "de", "fr", "hi", "id", "ru", "vi", "hr", "lt", "lv", "sk", "sl", "sv", "tr",
    "uk",
]  # fmt: skip
#: Model names of the SDK's enum, all served by the one loaded Supertonic-3.
Model = Literal[
    "sona_speech_1",
    "sona_speech_2",
    "sona_speech_2t",
    "sona_speech_2_flash",
    "supertonic_api_1",
    "sona_speech_3t",
    "supertonic_api_3",
]
MODELS: tuple[str, ...] = get_args(Model)
OutputFormat = Literal["wav", "mp3"]


class VoiceSettings(BaseModel):
    """``voice_settings``: the SDK sends all seven as floats once any is given."""

    model_config = ConfigDict(extra="forbid")

    pitch_shift: float = Field(0.0, ge=-24, le=24, description="Accepted, no effect.")
    pitch_variance: float = Field(1.0, ge=0, le=2, description="Accepted, no effect.")
    speed: float = Field(
        1.0, ge=0.5, le=2, description="Pace; 1 is the model's natural pace, 2 twice as fast."
    )
    duration: float = Field(
        0.0,
        ge=0,
        le=60,
        description="Target length in seconds (0: natural); the speed is then applied on top.",
    )
    similarity: float = Field(3.0, ge=1, le=5, description="Accepted, no effect.")
    text_guidance: float = Field(1.0, ge=0, le=4, description="Accepted, no effect.")
    subharmonic_amplitude_control: float = Field(
        1.0, ge=0, le=2, description="Accepted, no effect."
    )


class PredictRequest(BaseModel):
    """Body of ``POST /v1/predict-duration/{voice_id}``."""

    model_config = ConfigDict(extra="forbid")

    text: Text = Field(description=f"Text to speak, at most {TEXT_LIMIT} characters.")
    language: Language
    style: Text | None = Field(None, description="Accepted; every voice has one style.")
    model: Model = "sona_speech_1"
    output_format: OutputFormat | None = Field(
        None, description="wav (default) or mp3; also read from the query, as older docs had it."
    )
    voice_settings: VoiceSettings | None = None


class TTSRequest(PredictRequest):
    """Body of ``POST /v1/text-to-speech/{voice_id}`` and ``.../stream``."""

    include_phonemes: bool = Field(
        False, description="Answer JSON / NDJSON with estimated per-character timings."
    )
    normalized_text: Text | None = Field(None, description="Accepted, no effect.")


class CustomVoiceEdit(BaseModel):
    """Body of ``PATCH /v1/custom-voices/{voice_id}``: only the fields given change."""

    model_config = ConfigDict(extra="forbid")

    name: Text | None = Field(None, min_length=1, max_length=100)
    description: Text | None = Field(None, max_length=1000)
