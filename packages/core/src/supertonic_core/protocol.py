"""The speech-session messages, shared by the WebSocket server, its client and the
in-process plugins, so that in-process and remote modes behave the same.

Both directions are tagged unions on ``type``, parsed, checked and written by pydantic in
this one place: client messages are frozen models (:data:`ClientMessage`), whose ``config``
takes its option fields from the core's request model
(:class:`~supertonic_core.options.SynthesisOverrides`); server events are frozen dataclasses
(:data:`Event`). :func:`parse_client_message` raises :class:`ProtocolError` naming the
problem and the code from the one error table; :func:`to_message` writes an event as JSON
text (audio as base64, or as a separate binary frame) and :func:`parse_server_message`
reads one back. Why pydantic, not msgspec: it is already the core's validation library,
and it parses a ``text`` message in 2 µs and writes a 48 KB audio message in 0.13 ms
(msgspec: 0.4 µs and 0.08 ms; ``json`` and hand checks, as before: 2.8 µs and 0.4 ms), well
under a chunk's milliseconds (``benchmarks/README.md``, issue 23).
"""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field, replace
from typing import Annotated, Any, Literal, get_args

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    TypeAdapter,
    ValidationError,
)

from .audio import SAMPLE_RATES, check_sample_rate
from .errors import ErrorCode, quote_value
from .options import OPTION_NAMES, SynthesisOverrides, Text, option_error
from .timing import WordTiming

DEFAULT_CONTEXT = "default"
Encoding = Literal["pcm_s16le", "pcm_f32le", "mulaw", "alaw"]
ENCODINGS: tuple[str, ...] = get_args(Encoding)

#: Largest client message the session accepts, in bytes of JSON text.
MAX_MESSAGE_BYTES = 65536
#: Bytes of a ``text`` message besides the text itself (type, context_id of at most 128
#: characters, JSON punctuation), kept free when text is split (:func:`text_pieces`).
_TEXT_ENVELOPE_BYTES = 512


class ProtocolError(Exception):
    """A message the session cannot act on; ``code`` is machine-readable, ``fatal`` closes.

    ``code`` must be an :class:`ErrorCode` (a string that is not one raises ValueError):
    a client reads its retry policy from that table, so no code may go out that it lacks.
    """

    def __init__(
        self, message: str, *, code: ErrorCode = ErrorCode.INVALID_MESSAGE, fatal: bool = False
    ) -> None:
        super().__init__(message)
        self.code = ErrorCode(code)
        self.fatal = fatal


# ---------------------------------------------------------------- client messages

ContextId = Annotated[Text, Field(min_length=1, max_length=128)]


class SessionConfig(SynthesisOverrides):  # type: ignore[misc, valid-type]
    """Audio and voice settings of a session or of one context (None: inherit)."""

    sample_rate: Annotated[int, AfterValidator(check_sample_rate)] | None = Field(
        None, strict=True, description="Output rate, resampled (statefully) from the model's."
    )
    encoding: Encoding | None = Field(None, description="Sample format of the audio.")
    binary: bool | None = Field(
        None, strict=True, description="Audio in binary frames (session-wide), not base64."
    )

    def merged(self, override: SessionConfig) -> SessionConfig:
        """This config with every field ``override`` sets replaced."""
        given = {k: v for k, v in override.model_dump().items() if v is not None}
        return self.model_copy(update=given)

    def public(self) -> dict[str, Any]:
        """The settings that are set, as a ``config_ack`` shows them."""
        return self.model_dump(exclude_none=True)


#: Fields ``config`` accepts (``total_steps`` is the seed protocol's name for ``steps``).
CONFIG_FIELDS: tuple[str, ...] = (*SessionConfig.model_fields, "total_steps")


class _Message(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")
    context_id: ContextId | None = None


class Auth(_Message):
    type: Literal["auth"]
    api_key: Text


class ConfigMessage(SessionConfig):  # type: ignore[misc]
    type: Literal["config"]
    context_id: ContextId | None = None

    def settings(self) -> SessionConfig:
        return SessionConfig(**self.model_dump(exclude={"type", "context_id"}))


class TextMessage(_Message):
    type: Literal["text"]
    text: Text


class Flush(_Message):
    type: Literal["flush"]


class Cancel(_Message):
    type: Literal["cancel"]


class CloseContext(_Message):
    type: Literal["close_context"]
    context_id: ContextId


class Close(_Message):
    type: Literal["close"]


class Ping(_Message):
    type: Literal["ping"]


ClientMessage = Annotated[
    Auth | ConfigMessage | TextMessage | Flush | Cancel | CloseContext | Close | Ping,
    Field(discriminator="type"),
]
_CLIENT = TypeAdapter(ClientMessage)
CLIENT_TYPES: tuple[str, ...] = tuple(
    get_args(m.model_fields["type"].annotation)[0] for m in get_args(get_args(ClientMessage)[0])
)


def parse_client_message(
    raw: str | bytes | dict[str, Any], *, max_bytes: int = MAX_MESSAGE_BYTES
) -> ClientMessage:
    """Decode and check one client message; raises ProtocolError naming what is wrong."""
    if isinstance(raw, bytes | bytearray):
        raise ProtocolError("binary frames are not accepted from clients; send JSON text")
    if isinstance(raw, str):
        if len(raw.encode("utf-8", "surrogatepass")) > max_bytes:
            raise ProtocolError(
                f"message larger than {max_bytes} bytes", code=ErrorCode.MESSAGE_TOO_LARGE
            )
        try:
            raw = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise ProtocolError(
                f"malformed JSON: {exc.msg} at position {exc.pos}", code=ErrorCode.INVALID_JSON
            ) from None
    if not isinstance(raw, dict):
        raise ProtocolError("a message must be a JSON object with a 'type'")
    kind = raw.get("type")
    if not isinstance(kind, str) or kind not in CLIENT_TYPES:
        raise ProtocolError(
            f"unknown message type {quote_value(kind)}; expected one of {', '.join(CLIENT_TYPES)}",
            code=ErrorCode.UNKNOWN_TYPE,
        )
    try:
        return _CLIENT.validate_python(raw)
    except ValidationError as exc:
        raise _refusal(kind, exc.errors()[0]) from None


def _refusal(kind: str, error: Any) -> ProtocolError:
    """The ProtocolError of the first problem pydantic found in a ``kind`` message."""
    loc = [str(p) for p in error.get("loc", ())[1:]]  # [0] is the union's tag
    name = loc[0] if loc else ""
    if name == "context_id":
        if error.get("type") == "missing":
            return ProtocolError(f"{kind} needs a context_id")
        return ProtocolError("context_id must be a non-empty string of at most 128 characters")
    if kind == "text":
        return ProtocolError("text: the 'text' field must be a string", code=ErrorCode.INVALID_TEXT)
    if kind == "auth":
        return ProtocolError("auth: api_key must be a string")
    if name in SessionConfig.model_fields and name not in OPTION_NAMES:
        accepted = {
            "sample_rate": f"one of {', '.join(map(str, SAMPLE_RATES))}",
            "encoding": f"one of {', '.join(ENCODINGS)}",
            "binary": "true or false",
        }[name]
        message = f"{name} must be {accepted}, got {quote_value(error.get('input'))}"
    elif error.get("type") == "extra_forbidden":
        message = f"unknown field(s) {quote_value(name)}; accepted: {', '.join(CONFIG_FIELDS)}"
    else:
        message = str(option_error(error, SessionConfig))
    return ProtocolError(f"config: {message}", code=ErrorCode.INVALID_CONFIG)


# ---------------------------------------------------------------- server events

_R4 = Annotated[float, PlainSerializer(lambda x: round(x, 4), return_type=float)]


def _to_base64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _from_base64(data: object) -> object:
    return base64.b64decode(data) if isinstance(data, str) else data


#: Audio bytes, standard base64 in JSON (pydantic's own base64 is the URL-safe alphabet).
_Base64 = Annotated[
    bytes,
    BeforeValidator(_from_base64),
    PlainSerializer(_to_base64, return_type=str, when_used="json"),
]


def _words(words: tuple[WordTiming, ...]) -> list[dict[str, Any]]:
    return [{"word": w.word, "start": round(w.start, 4), "end": round(w.end, 4)} for w in words]


@dataclass(frozen=True)
class Ready:
    session_id: str
    sample_rate: int
    encoding: str
    model: str
    synthetic: bool
    type: Literal["ready"] = "ready"


@dataclass(frozen=True)
class ConfigAck:
    config: dict[str, Any]
    context_id: str | None = None
    type: Literal["config_ack"] = "config_ack"


@dataclass(frozen=True)
class AudioStart:
    """The utterance's first audio is next; ``voice``, ``lang`` and ``encoding`` are the ones
    it is spoken with (a context's own settings, else the session's)."""

    context_id: str
    ttfb_ms: float
    voice: str = ""
    lang: str = ""
    encoding: str = ""
    type: Literal["audio_start"] = "audio_start"


@dataclass(frozen=True)
class Audio:
    """One chunk of encoded audio with the text it speaks and its timings. On the wire the
    audio is ``chunk`` (base64), or, in binary mode, ``bytes`` (its length) and a binary
    frame after the message. ``text_end``: how many characters of the utterance's text, as
    the client sent it (its ``text`` messages since the utterance began, joined), this and
    the earlier audio speak: to resume elsewhere, send what follows."""

    context_id: str
    seq: int
    audio: Annotated[_Base64, Field(alias="chunk")] = field(default=b"", repr=False)
    encoding: str = "pcm_s16le"
    sample_rate: int = 44100
    offset_s: _R4 = 0.0
    duration_s: _R4 = 0.0
    text: str = ""
    words: Annotated[tuple[WordTiming, ...], PlainSerializer(_words)] = ()
    size: Annotated[int | None, Field(alias="bytes")] = None
    text_end: int | None = None
    type: Literal["audio"] = "audio"


@dataclass(frozen=True)
class AudioEnd:
    context_id: str
    stats: dict[str, Any]
    type: Literal["audio_end"] = "audio_end"


@dataclass(frozen=True)
class Cancelled:
    context_id: str
    type: Literal["cancelled"] = "cancelled"


@dataclass(frozen=True)
class ContextClosed:
    """The context is gone; ``reason`` is ``idle_timeout`` when the server closed it."""

    context_id: str
    reason: str | None = None
    type: Literal["context_closed"] = "context_closed"


@dataclass(frozen=True)
class Pong:
    type: Literal["pong"] = "pong"


@dataclass(frozen=True)
class Error:
    """``code`` is an :class:`ErrorCode` (a string on the wire)."""

    message: str
    code: str = ErrorCode.INVALID_MESSAGE
    context_id: str | None = None
    fatal: bool = False
    type: Literal["error"] = "error"


Event = Ready | ConfigAck | AudioStart | Audio | AudioEnd | Cancelled | ContextClosed | Pong | Error
_EVENTS: TypeAdapter[Event] = TypeAdapter(Annotated[Event, Field(discriminator="type")])


def to_message(event: Event, *, binary: bool = False) -> tuple[str, bytes | None]:
    """``event`` as JSON text; with ``binary`` an audio payload travels as a second frame."""
    if not isinstance(event, Audio):
        return _EVENTS.dump_json(event, by_alias=True).decode(), None
    if binary:
        header = replace(event, size=len(event.audio))
        return _EVENTS.dump_json(header, by_alias=True, exclude={"audio"}).decode(), event.audio
    return _EVENTS.dump_json(event, by_alias=True, exclude={"size"}).decode(), None


def parse_server_message(raw: str | bytes, payload: bytes | None = None) -> Event:
    """Inverse of :func:`to_message` (``payload``: the binary frame that followed an audio
    message with ``bytes``). Fields a newer server adds are ignored."""
    try:
        event = _EVENTS.validate_json(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        if first.get("type") in ("union_tag_invalid", "union_tag_not_found"):
            raise ProtocolError(
                f"unknown server message type: {first.get('msg')}", code=ErrorCode.UNKNOWN_TYPE
            ) from None
        raise ProtocolError(f"malformed server message: {first.get('msg')}") from None
    if payload is not None and isinstance(event, Audio):
        event = replace(event, audio=payload, size=None)
    return event


class SpeechConnection:
    """The connection interface of the in-process session and of the WebSocket client:
    typed helpers over :meth:`send`, :meth:`events` and :meth:`aclose`. Both speak exactly
    the same messages, so whoever holds one never needs to ask which it is.

    Problems with a message come back as :class:`Error` events from ``events()``, in both.
    """

    async def send(self, msg: dict[str, Any]) -> None:
        raise NotImplementedError

    def events(self) -> AsyncIterator[Event]:
        """Server events in order, until the session ends (a dropped transport raises)."""
        raise NotImplementedError

    async def aclose(self) -> None:
        """End the session now; whatever was still running is cancelled."""
        raise NotImplementedError

    async def ping(self) -> None:
        await self.send(_message("ping", None))

    async def configure(self, context_id: str | None = None, **config: Any) -> None:
        """Set voice, lang, speed, steps, first_chunk_steps, seed, sample_rate, encoding,
        binary, normalize or emoji."""
        await self.send(_message("config", context_id, **config))

    async def send_text(self, text: str, context_id: str | None = None) -> None:
        await self.send(_message("text", context_id, text=text))

    async def flush(self, context_id: str | None = None) -> None:
        await self.send(_message("flush", context_id))

    async def cancel(self, context_id: str | None = None) -> None:
        await self.send(_message("cancel", context_id))

    async def close_context(self, context_id: str) -> None:
        await self.send(_message("close_context", context_id))

    async def close(self) -> None:
        """Finish every context, then end the event stream."""
        await self.send(_message("close", None))


def text_pieces(text: str, max_bytes: int = MAX_MESSAGE_BYTES) -> Iterator[str]:
    """``text`` in consecutive pieces whose ``text`` messages stay under ``max_bytes``.

    Counted in bytes of JSON as :func:`json.dumps` writes it (``\\uXXXX`` escapes for
    anything outside ASCII: up to 12 bytes a character), so any text fits whatever its
    script. The session joins the pieces seamlessly.
    """
    budget = max_bytes - _TEXT_ENVELOPE_BYTES
    if len(text) * 12 <= budget or len(json.dumps(text)) - 2 <= budget:
        if text:
            yield text
        return
    start = used = 0
    for i, ch in enumerate(text):
        cost = len(json.dumps(ch)) - 2
        if used + cost > budget:
            yield text[start:i]
            start, used = i, 0
        used += cost
    if start < len(text):
        yield text[start:]


def _message(kind: str, context_id: str | None, **fields: Any) -> dict[str, Any]:
    msg: dict[str, Any] = {"type": kind, **{k: v for k, v in fields.items() if v is not None}}
    if context_id is not None:
        msg["context_id"] = context_id
    return msg
