"""Every error the core raises, in one place.

Each class also inherits the builtin that fits, so generic handlers keep working::

    SupertonicError
    ├── InvalidInputError (ValueError)          bad text, option, voice or language
    │   ├── EmptyTextError                      nothing to speak
    │   ├── UnsupportedCharactersError          characters the model cannot read
    │   ├── UnknownVoiceError                   voice name not known; lists the valid ones
    │   ├── UnknownLanguageError                language code not known; lists the valid ones
    │   ├── InvalidOptionError                  speed, steps, seed, ... out of range
    │   └── VoiceStyleError                     a style JSON file that is not a valid style
    ├── BundleError                             a model bundle that cannot be used
    │   ├── BundleNotFoundError (FileNotFoundError)
    │   ├── BundleInvalidError (ValueError)     missing files or config keys, named exactly
    │   └── BundleDownloadError (OSError)       the Hub could not be reached or refused
    ├── SynthesisCancelledError                 a cancelled request, stopped between steps
    ├── CapacityError                           the scheduler's queue is full; retry later
    └── EngineClosedError                       the engine was shut down
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable

#: Longest part of a client's value an error message quotes.
QUOTE_CHARS = 60
#: Most characters an unsupported-characters message lists.
LISTED_CHARS = 20


def quote_value(value: object, limit: int = QUOTE_CHARS) -> str:
    """``repr(value)`` for an error message, cut to about ``limit`` characters.

    Why: messages quote what the client sent, and a client may send a megabyte (it would
    come back whole in the error body and fill the log) or a lone surrogate (which no
    response can encode: ``repr`` escapes it). Every message that quotes a client's value
    goes through here.
    """
    if isinstance(value, str) and len(value) > limit:
        return f"{value[:limit]!r}... ({len(value)} characters)"
    text = repr(value)
    return text if len(text) <= limit + 2 else f"{text[:limit]}... ({len(text)} characters)"


def describe_character(ch: str) -> str:
    """``'€' (U+20AC)``, ``'\\x07' (U+0007, a control character)``: one character, for messages."""
    kind = ", a control character" if unicodedata.category(ch) == "Cc" else ""
    return f"{ch!r} (U+{ord(ch):04X}{kind})"


class SupertonicError(Exception):
    """Base class of every error raised by supertonic_core."""


# INPUT ERRORS


class InvalidInputError(SupertonicError, ValueError):
    """A request the engine cannot serve as given; the message says which value is wrong."""

    def __init__(self, message: str, *, param: str | None = None) -> None:
        super().__init__(message)
        self.param = param


class EmptyTextError(InvalidInputError):
    """Text that is empty or only whitespace: ``EmptyTextError: text is empty``."""

    def __init__(self, message: str = "text is empty: nothing to speak") -> None:
        super().__init__(message, param="input")


class UnsupportedCharactersError(InvalidInputError):
    """Text with characters the model cannot read.

    Example: ``unsupported characters for this model: '☃' (U+2603), '€' (U+20AC)``
    """

    def __init__(self, characters: Iterable[str]) -> None:
        self.characters = sorted(set(characters))
        listed = ", ".join(describe_character(c) for c in self.characters[:LISTED_CHARS])
        more = len(self.characters) - LISTED_CHARS
        if more > 0:
            listed += f" and {more} more"
        super().__init__(f"unsupported characters for this model: {listed}", param="input")


class UnknownVoiceError(InvalidInputError):
    """Example: ``unknown voice 'F9'; valid voices: F1, F2, ..., alloy, ...``"""

    def __init__(self, voice: str, allowed: Iterable[str], detail: str = "") -> None:
        self.voice = voice
        self.allowed = list(allowed)
        extra = f" ({detail})" if detail else ""
        super().__init__(
            f"unknown voice {quote_value(voice)}{extra}; valid voices: {', '.join(self.allowed)}; "
            "blends look like 'F1*0.7+M2*0.3'",
            param="voice",
        )


class UnknownLanguageError(InvalidInputError):
    """Example: ``unknown language 'xx'; valid languages: en, ko, ...``"""

    def __init__(self, lang: str, allowed: Iterable[str]) -> None:
        self.lang = lang
        self.allowed = list(allowed)
        super().__init__(
            f"unknown language {quote_value(lang)}; valid languages: {', '.join(self.allowed)}",
            param="lang",
        )


class InvalidOptionError(InvalidInputError):
    """Example: ``speed must be between 0.5 and 2.0, got 3.0``"""

    def __init__(self, name: str, value: object, expected: str, *, message: str = "") -> None:
        self.name = name
        self.value = value
        message = message or f"{name} must be {expected}, got {quote_value(value)}"
        super().__init__(message, param=name)


class VoiceStyleError(InvalidInputError):
    """A voice-style JSON file that cannot be used; names the file and the problem."""

    def __init__(self, source: str, problem: str) -> None:
        self.source = source
        super().__init__(f"invalid voice style {source}: {problem}", param="voice")


# BUNDLE ERRORS


class BundleError(SupertonicError):
    """A model bundle that cannot be found, read or downloaded."""


class BundleNotFoundError(BundleError, FileNotFoundError):
    """No bundle at the given place, and none could be fetched."""


class BundleInvalidError(BundleError, ValueError):
    """A bundle with missing files, missing config keys or unreadable graphs.

    Example: ``bundle /m is incomplete: missing onnx/vocoder.onnx, voice_styles/F1.json``
    """


class BundleDownloadError(BundleError, OSError):
    """The download failed; the message says why and how to pre-download instead."""


# RUNTIME ERRORS


class SynthesisCancelledError(SupertonicError):
    """The request was cancelled; synthesis stopped at the next denoising step."""


class CapacityError(SupertonicError):
    """More work waits than the configured bound; try again after ``retry_after`` seconds."""

    def __init__(self, message: str, *, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class EngineClosedError(SupertonicError):
    """The engine was closed; no new work is accepted."""
