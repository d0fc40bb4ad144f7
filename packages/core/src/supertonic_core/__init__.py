"""Supertonic TTS core: bundles, text, voices, batched ONNX synthesis, streaming, scheduling.

The server and the Pipecat and LiveKit plugins all speak through :class:`Engine`; nothing
here knows about HTTP.
"""

from .audio import SAMPLE_RATES, StreamResampler
from .bundle import MODELS, Bundle, download_bundle, resolve_bundle, verify_bundle
from .engine import Engine
from .errors import (
    BundleDownloadError,
    BundleError,
    BundleInvalidError,
    BundleNotFoundError,
    CapacityError,
    EmptyTextError,
    EngineClosedError,
    InvalidInputError,
    InvalidOptionError,
    SupertonicError,
    SynthesisCancelledError,
    UnknownLanguageError,
    UnknownVoiceError,
    UnsupportedCharactersError,
    VoiceStyleError,
)
from .languages import LANGUAGES
from .loading import load_engine
from .options import SynthesisOptions
from .runtime import RuntimeOptions
from .stream import AudioChunk, SynthesisStream
from .timing import WordTiming
from .version import __version__
from .voices import OPENAI_VOICES, PRESETS

__all__ = [
    "LANGUAGES",
    "MODELS",
    "OPENAI_VOICES",
    "PRESETS",
    "SAMPLE_RATES",
    "AudioChunk",
    "Bundle",
    "BundleDownloadError",
    "BundleError",
    "BundleInvalidError",
    "BundleNotFoundError",
    "CapacityError",
    "EmptyTextError",
    "Engine",
    "EngineClosedError",
    "InvalidInputError",
    "InvalidOptionError",
    "RuntimeOptions",
    "StreamResampler",
    "SupertonicError",
    "SynthesisCancelledError",
    "SynthesisOptions",
    "SynthesisStream",
    "UnknownLanguageError",
    "UnknownVoiceError",
    "UnsupportedCharactersError",
    "VoiceStyleError",
    "WordTiming",
    "__version__",
    "download_bundle",
    "load_engine",
    "resolve_bundle",
    "verify_bundle",
]
