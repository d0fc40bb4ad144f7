"""A speech session: several independent contexts of streamed text in, timed audio out.

This is the one abstraction behind the WebSocket endpoint and the in-process modes of
the Pipecat and LiveKit plugins. Text deltas are split incrementally and each chunk is
synthesized as soon as its end is certain; ``flush`` ends an utterance (its audio closes
with ``audio_end``); ``cancel`` stops a context at the next denoising step, drops its
queued text and queued audio, and is acknowledged only once nothing more of it can
follow. Output waits in a bounded queue, so a slow reader slows synthesis down instead
of growing memory.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections import deque
from collections.abc import AsyncIterator
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from .audio import StreamResampler, to_int16, to_mulaw
from .errors import CapacityError, InvalidInputError, SupertonicError
from .protocol import (
    DEFAULT_CONTEXT,
    Audio,
    AudioEnd,
    AudioStart,
    Cancelled,
    ConfigAck,
    ContextClosed,
    Error,
    Event,
    Pong,
    ProtocolError,
    Ready,
    SessionConfig,
    SpeechConnection,
    parse_client_message,
    parse_config,
)

if TYPE_CHECKING:
    from .engine import Engine
    from .stream import AudioChunk, SynthesisStream

logger = logging.getLogger("supertonic_core")


def encode_audio(samples: np.ndarray, encoding: str) -> bytes:
    """float32 samples → bytes in one of the session encodings."""
    if encoding == "pcm_f32le":
        return samples.astype("<f4").tobytes()
    if encoding == "mulaw":
        return to_mulaw(samples)
    return to_int16(samples).astype("<i2").tobytes()


@dataclass(eq=False)
class _Utterance:
    stream: SynthesisStream
    started: float = field(default_factory=time.monotonic)
    chars: int = 0


@dataclass(eq=False)
class _Context:
    id: str
    config: SessionConfig
    utterances: deque[_Utterance] = field(default_factory=deque)
    current: _Utterance | None = None
    task: asyncio.Task[None] | None = None
    closing: bool = False
    seq: int = 0
    wake: asyncio.Event = field(default_factory=asyncio.Event)


class SpeechSession(SpeechConnection):
    """Drive it with :meth:`handle` (protocol messages) or the typed methods of
    :class:`SpeechConnection`; read :meth:`events`.

    Args:
        engine: the engine to synthesize with.
        config: session defaults (voice, lang, ..., sample_rate, encoding, binary).
        max_contexts: open contexts allowed at once; one more is an error.
        max_queued_audio: audio events buffered for a slow reader before synthesis waits.
    """

    def __init__(
        self,
        engine: Engine,
        *,
        config: SessionConfig | None = None,
        max_contexts: int = 8,
        max_queued_audio: int = 16,
        session_id: str | None = None,
    ) -> None:
        self.engine = engine
        self.id = session_id or uuid.uuid4().hex[:12]
        base = SessionConfig(
            voice=engine.defaults.voice,
            lang=engine.defaults.lang,
            speed=engine.defaults.speed,
            steps=engine.defaults.steps,
            first_chunk_steps=engine.defaults.first_chunk_steps,
            sample_rate=engine.sample_rate,
            encoding="pcm_s16le",
            binary=False,
        )
        self.config = self._checked(base.merged(config or SessionConfig()))
        self.max_contexts = max_contexts
        self.max_queued_audio = max_queued_audio
        self._contexts: dict[str, _Context] = {}
        self._out: deque[Event] = deque()
        self._changed = asyncio.Condition()
        self._closing = False
        self._closed = False

    # ------------------------------------------------------------ protocol entry

    def ready(self) -> Ready:
        """The greeting a transport sends first."""
        return Ready(
            session_id=self.id,
            sample_rate=self.config.sample_rate or self.engine.sample_rate,
            encoding=self.config.encoding or "pcm_s16le",
            model=self.engine.bundle.model,
            synthetic=self.engine.synthetic is not None,
        )

    async def send(self, msg: dict[str, Any]) -> None:
        """The typed methods of :class:`SpeechConnection` land here, as for a remote client."""
        await self.handle(msg)

    async def handle(self, raw: str | bytes | dict[str, Any]) -> None:
        """Act on one client message; problems become ``error`` events, never exceptions."""
        msg: dict[str, Any] = {}
        try:
            msg = parse_client_message(raw)
            ctx = msg.get("context_id")
            kind = msg["type"]
            if kind == "config":
                await self._emit(self._configure(parse_config(msg), ctx))
            elif kind == "text":
                self._send_text(msg["text"], ctx)
            elif kind == "flush":
                self._flush(ctx)
            elif kind == "cancel":
                await self._cancel(ctx)
            elif kind == "close_context":
                self._close_context(ctx)
            elif kind == "close":
                await self._close()
            elif kind == "ping":
                await self._emit(Pong())
            # "auth" is consumed by the transport before the session exists
        except ProtocolError as exc:
            await self._emit(
                Error(str(exc), code=exc.code, context_id=msg.get("context_id"), fatal=exc.fatal)
            )
        except CapacityError as exc:
            await self._emit(Error(str(exc), code="busy", context_id=msg.get("context_id")))
        except InvalidInputError as exc:
            await self._emit(
                Error(str(exc), code="invalid_request", context_id=msg.get("context_id"))
            )

    # ------------------------------------------------------------ message handlers

    def _configure(self, config: SessionConfig, context_id: str | None) -> ConfigAck:
        """Change the session defaults, or one context's settings (for its next utterance)."""
        if context_id is None:
            self.config = self._checked(self.config.merged(config))
            return ConfigAck(config=_public(self.config))
        ctx = self._context(context_id)
        ctx.config = self._checked(ctx.config.merged(config))
        return ConfigAck(config=_public(ctx.config), context_id=context_id)

    def _send_text(self, text: str, context_id: str | None) -> None:
        ctx = self._context(context_id)
        if ctx.closing:
            raise ProtocolError(
                f"context {ctx.id!r} is closed; open a new context_id", code="context_closed"
            )
        if not text:
            return
        if ctx.current is None:
            utterance = _Utterance(self.engine.open_stream(self._options(ctx.config)))
            ctx.current = utterance
            ctx.utterances.append(utterance)
            self._ensure_task(ctx)
        ctx.current.chars += len(text)
        ctx.current.stream.add_text(text)
        ctx.wake.set()

    def _flush(self, context_id: str | None) -> None:
        ctx = self._contexts.get(context_id or DEFAULT_CONTEXT)
        if ctx is None or ctx.current is None:
            return
        try:
            ctx.current.stream.end()
        finally:
            ctx.current = None
            ctx.wake.set()

    async def _cancel(self, context_id: str | None) -> None:
        """Stop the context; ``cancelled`` goes out once no more of its audio can follow."""
        cid = context_id or DEFAULT_CONTEXT
        ctx = self._contexts.get(cid)
        if ctx is not None:
            await self._stop(ctx)
            if ctx.closing:
                self._contexts.pop(cid, None)
            async with self._changed:
                self._out = deque(
                    e
                    for e in self._out
                    if not (isinstance(e, Audio | AudioStart) and e.context_id == cid)
                )
                self._changed.notify_all()
        await self._emit(Cancelled(context_id=cid))

    def _close_context(self, context_id: str) -> None:
        ctx = self._context(context_id)
        try:
            self._flush(context_id)  # raises for unspeakable buffered text, after queueing
        finally:
            ctx.closing = True
            self._ensure_task(ctx)
            ctx.wake.set()

    async def _close(self) -> None:
        self._closing = True
        error: InvalidInputError | None = None
        for cid in list(self._contexts):
            try:
                self._close_context(cid)
            except InvalidInputError as exc:
                error = error or exc
        async with self._changed:
            self._changed.notify_all()
        if error is not None:
            raise error

    async def _stop(self, ctx: _Context) -> None:
        for utterance in ctx.utterances:
            utterance.stream.cancel()
        if ctx.task is not None:
            ctx.task.cancel()
            await asyncio.gather(ctx.task, return_exceptions=True)
            ctx.task = None
        for utterance in ctx.utterances:
            utterance.stream.close()
        ctx.utterances.clear()
        ctx.current = None

    async def aclose(self) -> None:
        """Cancel everything at once and end :meth:`events` (the transport went away)."""
        self._closing = True
        for ctx in list(self._contexts.values()):
            await self._stop(ctx)
        self._contexts.clear()
        self._closed = True
        async with self._changed:
            self._changed.notify_all()

    async def events(self) -> AsyncIterator[Event]:
        """Server events in order, until the session is closed and everything was read."""
        while True:
            async with self._changed:
                while not self._out and not self._finished():
                    await self._changed.wait()
                if not self._out:
                    return
                event = self._out.popleft()
                self._changed.notify_all()
            yield event

    @property
    def contexts(self) -> list[str]:
        return list(self._contexts)

    # ------------------------------------------------------------ internals

    def _finished(self) -> bool:
        return self._closed or (self._closing and not self._contexts)

    def _context(self, context_id: str | None) -> _Context:
        cid = context_id or DEFAULT_CONTEXT
        ctx = self._contexts.get(cid)
        if ctx is None:
            if self._closing:
                raise ProtocolError("the session is closing", code="session_closed")
            if len(self._contexts) >= self.max_contexts:
                raise ProtocolError(
                    f"too many open contexts (limit {self.max_contexts}); close one with "
                    "close_context or cancel it first",
                    code="too_many_contexts",
                )
            ctx = _Context(id=cid, config=self.config)
            self._contexts[cid] = ctx
        return ctx

    def _checked(self, config: SessionConfig) -> SessionConfig:
        self._options(config)
        return config

    def _options(self, config: SessionConfig) -> Any:
        return self.engine.options(
            voice=config.voice,
            lang=config.lang,
            speed=config.speed,
            steps=config.steps,
            first_chunk_steps=config.first_chunk_steps,
            seed=config.seed,
            normalize=config.normalize,
            emoji=config.emoji,
        )

    def _ensure_task(self, ctx: _Context) -> None:
        if ctx.task is None or ctx.task.done():
            ctx.task = asyncio.create_task(self._run_context(ctx), name=f"context-{ctx.id}")

    async def _emit(self, event: Event, *, audio: bool = False) -> None:
        async with self._changed:
            if audio:
                while sum(isinstance(e, Audio) for e in self._out) >= self.max_queued_audio:
                    await self._changed.wait()
            self._out.append(event)
            self._changed.notify_all()

    async def _run_context(self, ctx: _Context) -> None:
        """Play the context's utterances in order; close it when asked and drained."""
        while True:
            if not ctx.utterances:
                if ctx.closing:
                    self._contexts.pop(ctx.id, None)
                    await self._emit(ContextClosed(context_id=ctx.id))
                    async with self._changed:
                        self._changed.notify_all()
                    return
                ctx.wake.clear()
                await ctx.wake.wait()
                continue
            utterance = ctx.utterances[0]
            try:
                await self._play(ctx, utterance)
            except SupertonicError as exc:
                await self._emit(Error(str(exc), code="synthesis_failed", context_id=ctx.id))
            except Exception:  # a failed ONNX call: report it, keep the context usable
                logger.exception("context %s: synthesis failed", ctx.id)
                await self._emit(
                    Error(
                        "synthesis failed (internal error; the details are in the log)",
                        code="synthesis_failed",
                        context_id=ctx.id,
                    )
                )
            finally:
                utterance.stream.close()
            if ctx.utterances and ctx.utterances[0] is utterance:
                ctx.utterances.popleft()

    async def _play(self, ctx: _Context, utterance: _Utterance) -> None:
        config = ctx.config
        rate = config.sample_rate or self.engine.sample_rate
        encoding = config.encoding or "pcm_s16le"
        resampler = StreamResampler(self.engine.sample_rate, rate)
        first_audio: float | None = None
        audio_s = 0.0
        chunks = 0
        last: AudioChunk | None = None
        async for chunk in utterance.stream:
            if first_audio is None:
                first_audio = time.monotonic()
                ttfb = (first_audio - utterance.started) * 1000
                await self._emit(AudioStart(context_id=ctx.id, ttfb_ms=round(ttfb, 1)))
            samples = resampler.process(chunk.samples)
            await self._send_audio(
                ctx, chunk.text, chunk.offset, chunk.words, samples, rate, encoding
            )
            audio_s += chunk.duration
            chunks += 1
            last = chunk
        if first_audio is None:  # nothing speakable, or cancelled before any audio
            if utterance.stream.cancelled:
                return
            first_audio = time.monotonic()
        tail = resampler.process(np.zeros(0, dtype=np.float32), last=True)
        if len(tail):
            end = last.offset + last.duration if last else 0.0
            await self._send_audio(ctx, "", end, (), tail, rate, encoding)
        wall = time.monotonic() - utterance.started
        stats = {
            "ttfb_ms": round((first_audio - utterance.started) * 1000, 1),
            "audio_s": round(audio_s, 3),
            "chunks": chunks,
            "chars": utterance.chars,
            "wall_ms": round(wall * 1000, 1),
            "rtf": round(wall / audio_s, 3) if audio_s else None,
            "synthetic": self.engine.synthetic is not None,
        }
        await self._emit(AudioEnd(context_id=ctx.id, stats=stats))

    async def _send_audio(
        self,
        ctx: _Context,
        text: str,
        offset: float,
        words: tuple[Any, ...],
        samples: np.ndarray,
        rate: int,
        encoding: str,
    ) -> None:
        event = Audio(
            context_id=ctx.id,
            seq=ctx.seq,
            audio=encode_audio(samples, encoding),
            encoding=encoding,
            sample_rate=rate,
            offset_s=offset,
            duration_s=len(samples) / rate,
            text=text,
            words=words,
        )
        ctx.seq += 1
        await self._emit(event, audio=True)


def _public(config: SessionConfig) -> dict[str, Any]:
    return {k: v for k, v in asdict(config).items() if v is not None}
