"""Every error the core raises, in one place.

Each class also inherits the builtin that fits, so generic handlers keep working::

    SupertonicError
    ├── InvalidInputError (ValueError)          bad text, option, voice or language
    │   ├── EmptyTextError                      nothing to speak
    │   ├── UnsupportedCharactersError          characters the model cannot read
    │   ├── UnknownVoiceError                   voice name not known; lists the valid ones
    │   ├── UnknownLanguageError                language code not known; lists the valid ones
    │   ├── InvalidOptionError                  speed, steps, seed, ... out of range
    │   ├── UnknownLexiconError                 dictionary name not loaded; lists the loaded ones
    │   ├── LexiconError                        a pronunciation dictionary that cannot be used
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
from enum import StrEnum
from typing import ClassVar

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


class ErrorCode(StrEnum):
    """Every error code any transport sends, and what a client should make of it.

    The one table: the OpenAI-style HTTP envelope, the WebSocket ``error`` message, Wyoming's
    ``error`` event, the Supertone envelope (by its status) and the plugins' exceptions all
    take their code, status and retry policy from here, and no transport adds a string.

    - ``status``: the HTTP status it amounts to (the WebSocket and the plugins report it too);
    - ``retryable``: the same request may succeed later, unchanged;
    - ``text_lost``: the text of the request (or utterance) it answers was not, and will not
      be, spoken: the client must send it again to have it heard;
    - ``closes``: it ends a session that was working, through no fault of the request
      (idle, closed): reconnecting is the way on. A refused key or a shutdown end the socket
      too, but are told by their status.

    Members are strings, so they go on the wire as they are.
    """

    status: int
    retryable: bool
    text_lost: bool
    closes: bool

    def __new__(
        cls, value: str, status: int, retryable: bool, text_lost: bool = True, closes: bool = False
    ) -> ErrorCode:
        member = str.__new__(cls, value)
        member._value_ = value
        member.status, member.retryable = status, retryable
        member.text_lost, member.closes = text_lost, closes
        return member

    # the request itself: sending it again unchanged cannot help
    INVALID_JSON = ("invalid_json", 400, False)
    INVALID_MESSAGE = ("invalid_message", 400, False)
    UNKNOWN_TYPE = ("unknown_type", 400, False)
    MESSAGE_TOO_LARGE = ("message_too_large", 400, False)
    INVALID_TEXT = ("invalid_text", 400, False)
    INVALID_CONFIG = ("invalid_config", 400, False)
    INVALID_REQUEST = ("invalid_request", 400, False)
    INVALID_VALUE = ("invalid_value", 400, False)
    INVALID_VOICE = ("invalid_voice", 400, False)
    INVALID_LANGUAGE = ("invalid_language", 400, False)
    INVALID_LEXICON = ("invalid_lexicon", 400, False)
    INVALID_MODEL = ("invalid_model", 400, False)
    MISSING_REQUIRED_PARAMETER = ("missing_required_parameter", 400, False)
    UNKNOWN_PARAMETER = ("unknown_parameter", 400, False)
    EMPTY_INPUT = ("empty_input", 400, False)
    UNSUPPORTED_CHARACTERS = ("unsupported_characters", 400, False)
    INPUT_TOO_LONG = ("input_too_long", 400, False)
    TOO_MUCH_PENDING_TEXT = ("too_much_pending_text", 400, False)
    CONTEXT_CLOSED = ("context_closed", 400, False)
    BAD_EVENT = ("bad_event", 400, False)
    UNAUTHORIZED = ("unauthorized", 401, False)
    MISSING_API_KEY = ("missing_api_key", 401, False)
    INVALID_API_KEY = ("invalid_api_key", 401, False)
    NOT_FOUND = ("not_found", 404, False)
    MODEL_NOT_FOUND = ("model_not_found", 404, False)
    METHOD_NOT_ALLOWED = ("method_not_allowed", 405, False)
    REQUEST_CANCELLED = ("request_cancelled", 499, False)
    # the server, now: the same request may pass later
    REQUEST_TIMEOUT = ("request_timeout", 408, True)
    BUSY = ("busy", 429, True)
    TOO_MANY_CONTEXTS = ("too_many_contexts", 429, True)
    TOO_MANY_UTTERANCES = ("too_many_utterances", 429, True)
    SYNTHESIS_FAILED = ("synthesis_failed", 500, True)
    INTERNAL_ERROR = ("internal_error", 500, True)
    MODEL_LOADING = ("model_loading", 503, True)
    MODEL_UNAVAILABLE = ("model_unavailable", 503, True)
    UNAVAILABLE = ("unavailable", 503, True)
    QUEUE_FULL = ("queue_full", 503, True, False)
    SHUTTING_DOWN = ("shutting_down", 503, True)
    # the session ended; nothing was waiting to be spoken
    IDLE_TIMEOUT = ("idle_timeout", 408, True, False, True)
    SESSION_CLOSED = ("session_closed", 409, True, True, True)

    @classmethod
    def of(cls, code: str | None) -> ErrorCode | None:
        """The member for ``code``, or None for a code this version does not know."""
        try:
            return cls(code)
        except ValueError:
            return None


class SupertonicError(Exception):
    """Base class of every error raised by supertonic_core; ``code`` is its entry in
    :class:`ErrorCode`, which every transport reports."""

    code: ClassVar[ErrorCode] = ErrorCode.INTERNAL_ERROR


# INPUT ERRORS


class InvalidInputError(SupertonicError, ValueError):
    """A request the engine cannot serve as given; the message says which value is wrong."""

    code = ErrorCode.INVALID_VALUE

    def __init__(self, message: str, *, param: str | None = None) -> None:
        super().__init__(message)
        self.param = param


class EmptyTextError(InvalidInputError):
    """Text that is empty or only whitespace: ``EmptyTextError: text is empty``."""

    code = ErrorCode.EMPTY_INPUT

    def __init__(self, message: str = "text is empty: nothing to speak") -> None:
        super().__init__(message, param="input")


class UnsupportedCharactersError(InvalidInputError):
    """Text with characters the model cannot read.

    Example: ``unsupported characters for this model: '☃' (U+2603), '€' (U+20AC)``
    """

    code = ErrorCode.UNSUPPORTED_CHARACTERS

    def __init__(self, characters: Iterable[str]) -> None:
        self.characters = sorted(set(characters))
        listed = ", ".join(describe_character(c) for c in self.characters[:LISTED_CHARS])
        more = len(self.characters) - LISTED_CHARS
        if more > 0:
            listed += f" and {more} more"
        super().__init__(f"unsupported characters for this model: {listed}", param="input")


class UnknownVoiceError(InvalidInputError):
    """Example: ``unknown voice 'F9'; valid voices: F1, F2, ..., alloy, ...``"""

    code = ErrorCode.INVALID_VOICE

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

    code = ErrorCode.INVALID_LANGUAGE

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


class UnknownLexiconError(InvalidInputError):
    """Example: ``unknown pronunciation dictionary 'medical'; loaded: brands, names``"""

    code = ErrorCode.INVALID_LEXICON

    def __init__(self, name: str, loaded: Iterable[str]) -> None:
        self.lexicon = name
        self.loaded = list(loaded)
        known = ", ".join(self.loaded) if self.loaded else "none (the server has no --lexicon)"
        super().__init__(
            f"unknown pronunciation dictionary {quote_value(name)}; loaded: {known}",
            param="lexicons",
        )


class LexiconError(InvalidInputError):
    """A pronunciation dictionary (a PLS or JSON file) that cannot be used; names the source
    and the problem.

    Example: ``pronunciation dictionary brands.pls: line 3: <alias> is empty``
    """

    code = ErrorCode.INVALID_LEXICON

    def __init__(self, source: str, problem: str) -> None:
        self.source = source
        super().__init__(f"pronunciation dictionary {source}: {problem}", param="lexicons")


class VoiceStyleError(InvalidInputError):
    """A voice-style JSON file that cannot be used; names the file and the problem."""

    code = ErrorCode.INVALID_VOICE

    def __init__(self, source: str, problem: str) -> None:
        self.source = source
        super().__init__(f"invalid voice style {source}: {problem}", param="voice")


# BUNDLE ERRORS


class BundleError(SupertonicError):
    """A model bundle that cannot be found, read or downloaded."""

    code = ErrorCode.MODEL_UNAVAILABLE


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

    code = ErrorCode.REQUEST_CANCELLED


class CapacityError(SupertonicError):
    """More work waits than the configured bound; try again after ``retry_after`` seconds."""

    code = ErrorCode.BUSY

    def __init__(self, message: str, *, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class EngineClosedError(SupertonicError):
    """The engine was closed; no new work is accepted."""

    code = ErrorCode.SHUTTING_DOWN
