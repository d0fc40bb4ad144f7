"""The speech-session message schema, shared by the WebSocket server, its client and the
in-process plugins, so that in-process and remote modes behave the same.

Client → server messages are plain dicts with a ``type`` (see :data:`CLIENT_TYPES`);
:func:`parse_client_message` validates one and raises :class:`ProtocolError` naming the
problem. Server → client messages are the event dataclasses below; ``to_message`` gives
the JSON-ready dict (audio as base64, or as a separate binary frame) and
:func:`parse_server_message` reads one back.
"""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator, Iterator
from dataclasses import asdict, dataclass, field
from typing import Any

from .audio import SAMPLE_RATES
from .errors import ErrorCode, quote_value
from .timing import WordTiming

DEFAULT_CONTEXT = "default"
ENCODINGS = ("pcm_s16le", "pcm_f32le", "mulaw", "alaw")
CLIENT_TYPES = (
    "auth",
    "config",
    "text",
    "flush",
    "cancel",
    "close_context",
    "close",
    "ping",
)
#: Fields ``config`` accepts; ``total_steps`` is the seed protocol's name for ``steps``;
#: ``first_chunk_steps`` sets the steps of each utterance's first chunk ("fast start").
CONFIG_FIELDS = (
    "voice",
    "lang",
    "speed",
    "steps",
    "total_steps",
    "first_chunk_steps",
    "seed",
    "sample_rate",
    "encoding",
    "binary",
    "normalize",
    "emoji",
)


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


@dataclass(frozen=True)
class SessionConfig:
    """Audio and voice settings of a session or of one context (None = inherit)."""

    voice: str | None = None
    lang: str | None = None
    speed: float | None = None
    steps: int | None = None
    first_chunk_steps: int | None = None
    seed: int | None = None
    sample_rate: int | None = None
    encoding: str | None = None
    binary: bool | None = None
    normalize: bool | None = None
    emoji: str | None = None

    def merged(self, override: SessionConfig) -> SessionConfig:
        """This config with every field ``override`` sets replaced."""
        values = asdict(self)
        values.update({k: v for k, v in asdict(override).items() if v is not None})
        return SessionConfig(**values)


def parse_config(msg: dict[str, Any]) -> SessionConfig:
    """Validate the transport-level fields of a ``config`` message (voice and friends are
    checked by the engine, which knows the model)."""
    unknown = set(msg) - {*CONFIG_FIELDS, "type", "context_id"}
    if unknown:
        raise ProtocolError(
            f"config: unknown field(s) {quote_value(', '.join(sorted(unknown)))}; "
            f"accepted: {', '.join(CONFIG_FIELDS)}",
            code=ErrorCode.INVALID_CONFIG,
        )
    steps = msg.get("steps", msg.get("total_steps"))
    rate = msg.get("sample_rate")
    if rate is not None and rate not in SAMPLE_RATES:
        raise ProtocolError(
            f"config: sample_rate must be one of {', '.join(map(str, SAMPLE_RATES))}, got {quote_value(rate)}",
            code=ErrorCode.INVALID_CONFIG,
        )
    encoding = msg.get("encoding")
    if encoding is not None and encoding not in ENCODINGS:
        raise ProtocolError(
            f"config: encoding must be one of {', '.join(ENCODINGS)}, got {quote_value(encoding)}",
            code=ErrorCode.INVALID_CONFIG,
        )
    binary = msg.get("binary")
    if binary is not None and not isinstance(binary, bool):
        raise ProtocolError(
            f"config: binary must be true or false, got {quote_value(binary)}",
            code=ErrorCode.INVALID_CONFIG,
        )
    normalize = msg.get("normalize")
    if normalize is not None and not isinstance(normalize, bool):
        raise ProtocolError(
            f"config: normalize must be true or false, got {quote_value(normalize)}",
            code=ErrorCode.INVALID_CONFIG,
        )
    for name in ("voice", "lang", "emoji"):
        if msg.get(name) is not None and not isinstance(msg[name], str):
            raise ProtocolError(
                f"config: {name} must be a string, got {quote_value(msg[name])}",
                code=ErrorCode.INVALID_CONFIG,
            )
    return SessionConfig(
        voice=msg.get("voice"),
        lang=msg.get("lang"),
        speed=msg.get("speed"),
        steps=steps,
        first_chunk_steps=msg.get("first_chunk_steps"),
        seed=msg.get("seed"),
        sample_rate=rate,
        encoding=encoding,
        binary=binary,
        normalize=normalize,
        emoji=msg.get("emoji"),
    )


def parse_client_message(
    raw: str | bytes | dict[str, Any], *, max_bytes: int = MAX_MESSAGE_BYTES
) -> dict[str, Any]:
    """Decode and check one client message; raises ProtocolError naming what is wrong."""
    if isinstance(raw, bytes | bytearray):
        raise ProtocolError("binary frames are not accepted from clients; send JSON text")
    if isinstance(raw, str):
        if len(raw.encode("utf-8", "surrogatepass")) > max_bytes:
            raise ProtocolError(
                f"message larger than {max_bytes} bytes", code=ErrorCode.MESSAGE_TOO_LARGE
            )
        try:
            msg = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise ProtocolError(
                f"malformed JSON: {exc.msg} at position {exc.pos}", code=ErrorCode.INVALID_JSON
            ) from None
    else:
        msg = raw
    if not isinstance(msg, dict):
        raise ProtocolError("a message must be a JSON object with a 'type'")
    kind = msg.get("type")
    if kind not in CLIENT_TYPES:
        raise ProtocolError(
            f"unknown message type {quote_value(kind)}; expected one of {', '.join(CLIENT_TYPES)}",
            code=ErrorCode.UNKNOWN_TYPE,
        )
    ctx = msg.get("context_id")
    if ctx is not None and (not isinstance(ctx, str) or not ctx or len(ctx) > 128):
        raise ProtocolError("context_id must be a non-empty string of at most 128 characters")
    if kind == "text" and not isinstance(msg.get("text"), str):
        raise ProtocolError("text: the 'text' field must be a string", code=ErrorCode.INVALID_TEXT)
    if kind == "close_context" and ctx is None:
        raise ProtocolError("close_context needs a context_id")
    return msg


# ---------------------------------------------------------------- server events


@dataclass(frozen=True)
class Ready:
    session_id: str
    sample_rate: int
    encoding: str
    model: str
    synthetic: bool
    type: str = "ready"


@dataclass(frozen=True)
class ConfigAck:
    config: dict[str, Any]
    context_id: str | None = None
    type: str = "config_ack"


@dataclass(frozen=True)
class AudioStart:
    """The utterance's first audio is next; ``voice``, ``lang`` and ``encoding`` are the ones
    it is spoken with (a context's own settings, else the session's)."""

    context_id: str
    ttfb_ms: float
    voice: str = ""
    lang: str = ""
    encoding: str = ""
    type: str = "audio_start"


@dataclass(frozen=True)
class Audio:
    """One chunk of encoded audio with the text it speaks and its timings."""

    context_id: str
    seq: int
    audio: bytes = field(repr=False)
    encoding: str
    sample_rate: int
    offset_s: float
    duration_s: float
    text: str
    words: tuple[WordTiming, ...] = ()
    type: str = "audio"


@dataclass(frozen=True)
class AudioEnd:
    context_id: str
    stats: dict[str, Any]
    type: str = "audio_end"


@dataclass(frozen=True)
class Cancelled:
    context_id: str
    type: str = "cancelled"


@dataclass(frozen=True)
class ContextClosed:
    """The context is gone; ``reason`` is ``idle_timeout`` when the server closed it."""

    context_id: str
    reason: str | None = None
    type: str = "context_closed"


@dataclass(frozen=True)
class Pong:
    type: str = "pong"


@dataclass(frozen=True)
class Error:
    message: str
    code: str = "error"
    context_id: str | None = None
    fatal: bool = False
    type: str = "error"


Event = Ready | ConfigAck | AudioStart | Audio | AudioEnd | Cancelled | ContextClosed | Pong | Error


def to_message(event: Event, *, binary: bool = False) -> tuple[dict[str, Any], bytes | None]:
    """JSON-ready dict of ``event``; with ``binary`` an audio payload travels as a second frame."""
    if not isinstance(event, Audio):
        return asdict(event), None
    msg: dict[str, Any] = {
        "type": "audio",
        "context_id": event.context_id,
        "seq": event.seq,
        "encoding": event.encoding,
        "sample_rate": event.sample_rate,
        "offset_s": round(event.offset_s, 4),
        "duration_s": round(event.duration_s, 4),
        "text": event.text,
        "words": [
            {"word": w.word, "start": round(w.start, 4), "end": round(w.end, 4)}
            for w in event.words
        ],
    }
    if binary:
        msg["bytes"] = len(event.audio)
        return msg, event.audio
    msg["chunk"] = base64.b64encode(event.audio).decode("ascii")
    return msg, None


_EVENTS: dict[str, type] = {
    "ready": Ready,
    "config_ack": ConfigAck,
    "audio_start": AudioStart,
    "audio_end": AudioEnd,
    "cancelled": Cancelled,
    "context_closed": ContextClosed,
    "pong": Pong,
    "error": Error,
}


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


def parse_server_message(msg: dict[str, Any], payload: bytes | None = None) -> Event:
    """Inverse of :func:`to_message` (``payload`` is the binary frame that followed, if any)."""
    kind = msg.get("type")
    if kind == "audio":
        audio = payload if payload is not None else base64.b64decode(msg.get("chunk", ""))
        return Audio(
            context_id=msg.get("context_id", DEFAULT_CONTEXT),
            seq=msg.get("seq", 0),
            audio=audio,
            encoding=msg.get("encoding", "pcm_s16le"),
            sample_rate=msg.get("sample_rate", 44100),
            offset_s=msg.get("offset_s", 0.0),
            duration_s=msg.get("duration_s", 0.0),
            text=msg.get("text", ""),
            words=tuple(WordTiming(w["word"], w["start"], w["end"]) for w in msg.get("words", [])),
        )
    cls = _EVENTS.get(kind)  # type: ignore[arg-type]
    if cls is None:
        raise ProtocolError(f"unknown server message type {kind!r}", code=ErrorCode.UNKNOWN_TYPE)
    fields = {k: v for k, v in msg.items() if k in cls.__dataclass_fields__ and k != "type"}
    return cls(**fields)
