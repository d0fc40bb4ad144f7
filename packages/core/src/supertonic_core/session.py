"""A speech session: several independent contexts of streamed text in, timed audio out.

This is the one abstraction behind the WebSocket endpoint and the in-process modes of
the Pipecat and LiveKit plugins. Text deltas are split incrementally and each chunk is
synthesized as soon as its end is certain; ``flush`` ends an utterance (its audio closes
with ``audio_end``); ``cancel`` stops a context at the next denoising step, drops its
queued text and queued audio, and is acknowledged only once nothing more of it can
follow. Output waits in a bounded queue, so a slow reader slows synthesis down instead
of growing memory.

A session shares the server with others, so what it holds is bounded (:class:`SessionLimits`,
all off by default for in-process use): text buffered under the splitter's threshold holds
no scheduler place, and is spoken after ``flush_after`` seconds without new text (as the
cloud WebSocket APIs do), when a paused utterance also gives its place back; a context with
nothing to do is closed after ``context_idle_timeout``; the text waiting to be spoken is
capped per context and per session; and every :class:`Share` given (one connection, one API
key) bounds the utterances in progress, so one client cannot take every place.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
import uuid
from collections import deque
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from .audio_path import AudioPath, raw_encoder
from .errors import CapacityError, InvalidInputError, SupertonicError
from .limits import SessionLimits, Share
from .options import OPTION_NAMES, SynthesisOptions
from .outbox import Outbox
from .protocol import (
    DEFAULT_CONTEXT,
    Audio,
    AudioEnd,
    AudioStart,
    Cancel,
    Cancelled,
    Close,
    CloseContext,
    ConfigAck,
    ConfigMessage,
    ContextClosed,
    Error,
    ErrorCode,
    Event,
    Flush,
    Ping,
    Pong,
    ProtocolError,
    Ready,
    SessionConfig,
    SpeechConnection,
    TextMessage,
    parse_client_message,
)

if TYPE_CHECKING:
    from .engine import Engine
    from .stream import AudioChunk, SynthesisStream
    from .timing import WordTiming

logger = logging.getLogger("supertonic_core")
_WHITESPACE = re.compile(r"\s+")


class _Transcript:
    """An utterance's text as the client sent it, and how far the audio sent has got in it.

    Why: a client whose connection drops mid-utterance (a replica killed, a shutdown) sends
    the rest of its text to another replica, from where the last audio it received ended
    (the ``text_end`` of each ``audio`` message): no word lost, none twice. The chunks'
    words are the original text's (normalisation keeps an offset map), so each is found in
    order from where the last one ended; one that is not (read from a rewrite that kept no
    word) leaves the end where it was, so a resume says a little again rather than skip.
    """

    def __init__(self) -> None:
        self._parts: list[str] = []
        self._text = ""
        self.end = 0

    def add(self, delta: str) -> None:
        self._parts.append(delta)

    def through(self, words: tuple[WordTiming, ...]) -> int:
        """The end of ``words`` (a chunk's, in order) in the text; stays put without any."""
        if (words and len(self._parts) > 1) or not self._text:
            self._text = "".join(self._parts)
            self._parts = [self._text]
        for word in words:
            found = self._text.find(word.word, self.end)
            if found >= 0:
                self.end = found + len(word.word)
        return self.end


@dataclass(eq=False)
class _Utterance:
    stream: SynthesisStream
    config: SessionConfig
    shares: list[Share] = field(default_factory=list)
    started: float = field(default_factory=time.monotonic)
    chars: int = 0  # received
    counted: int = 0  # received, each run of whitespace as one (as chunks are)
    spoken: int = 0  # delivered as audio
    transcript: _Transcript = field(default_factory=_Transcript)

    @property
    def waiting_chars(self) -> int:
        """Characters received and not spoken yet (runs of whitespace count once)."""
        return max(0, self.counted - self.spoken)

    def retire(self) -> None:
        """The utterance is over: its stream and shares are given back (once)."""
        self.stream.close()
        for share in self.shares:
            share.release()
        self.shares.clear()


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
    last_text: float = field(default_factory=time.monotonic)  # last text delta
    last_active: float = field(default_factory=time.monotonic)  # last message or audio
    close_reason: str | None = None

    @property
    def waiting_chars(self) -> int:
        return sum(u.waiting_chars for u in self.utterances)

    @property
    def working(self) -> bool:
        """Something is queued for synthesis or playing (not only a paused utterance)."""
        return any(u is not self.current or u.stream.queued_chunks for u in self.utterances)


class SpeechSession(SpeechConnection):
    """Drive it with :meth:`handle` (protocol messages) or the typed methods of
    :class:`SpeechConnection`; read :meth:`events`.

    Args:
        engine: the engine to synthesize with.
        config: session defaults (voice, lang, ..., sample_rate, encoding, binary).
        max_contexts: open contexts allowed at once; one more is an error.
        max_queued_audio: audio events buffered for a slow reader before synthesis waits.
        limits: what the session may hold (timers, text caps, queued events).
        shares: bounds on utterances in progress this session counts against.
    """

    def __init__(
        self,
        engine: Engine,
        *,
        config: SessionConfig | None = None,
        max_contexts: int = 8,
        max_queued_audio: int = 16,
        session_id: str | None = None,
        limits: SessionLimits | None = None,
        shares: Sequence[Share] = (),
    ) -> None:
        self.engine = engine
        self.id = session_id or uuid.uuid4().hex[:12]
        base = SessionConfig(
            **engine.defaults.model_dump(exclude_none=True),
            sample_rate=engine.sample_rate,
            encoding="pcm_s16le",
            binary=False,
        )
        self.config = self._checked(base.merged(config or SessionConfig()))
        self.max_contexts = max_contexts
        self.max_queued_audio = max_queued_audio
        self.limits = limits or SessionLimits()
        self.shares = tuple(shares)
        self._contexts: dict[str, _Context] = {}
        self._out = Outbox(
            max_events=self.limits.max_queued_events,
            max_audio=max_queued_audio,
            max_bytes=self.limits.max_queued_bytes,
        )
        self._closing = False
        self._closed = False
        self._last_active = time.monotonic()
        self._watcher: asyncio.Task[None] | None = None

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
        msg = None
        try:
            msg = parse_client_message(raw)
            ctx = msg.context_id
            if isinstance(msg, ConfigMessage):
                await self._emit(self._configure(msg.settings(), ctx))
            elif isinstance(msg, TextMessage):
                self._send_text(msg.text, ctx)
            elif isinstance(msg, Flush):
                self._flush(ctx)
            elif isinstance(msg, Cancel):
                await self._cancel(ctx)
            elif isinstance(msg, CloseContext):
                self._close_context(msg.context_id)
            elif isinstance(msg, Close):
                await self._close()
            elif isinstance(msg, Ping):
                await self._emit(Pong())
            if not isinstance(msg, TextMessage) or msg.text:  # empty text: not activity
                self._touch(ctx)
            # "auth" is consumed by the transport before the session exists
        except ProtocolError as exc:
            context_id = msg.context_id if msg else None
            await self._emit(Error(str(exc), code=exc.code, context_id=context_id, fatal=exc.fatal))
        except CapacityError as exc:
            await self._emit(_busy(exc, msg.context_id if msg else None))
        except InvalidInputError as exc:
            # A bad value in a config message is a bad config; in text, a bad request.
            config = isinstance(msg, ConfigMessage)
            code = ErrorCode.INVALID_CONFIG if config else ErrorCode.INVALID_REQUEST
            await self._emit(Error(str(exc), code=code, context_id=msg.context_id if msg else None))

    # ------------------------------------------------------------ message handlers

    def _configure(self, config: SessionConfig, context_id: str | None) -> ConfigAck:
        """Change the session defaults, or one context's settings (for its next utterance)."""
        if context_id is None:
            self.config = self._checked(self.config.merged(config))
            return ConfigAck(config=self.config.public())
        ctx = self._context(context_id)
        ctx.config = self._checked(ctx.config.merged(config))
        return ConfigAck(config=ctx.config.public(), context_id=context_id)

    def _send_text(self, text: str, context_id: str | None) -> None:
        if not text:
            return  # nothing to do: no context is opened, no timer reset
        ctx = self._context(context_id)
        if ctx.closing:
            raise ProtocolError(
                f"context {ctx.id!r} is closed; open a new context_id",
                code=ErrorCode.CONTEXT_CLOSED,
            )
        counted = len(_WHITESPACE.sub(" ", text))
        self._check_room(ctx, counted)
        if ctx.current is None:
            ctx.current = self._open_utterance(ctx, shared=True)
        utterance = ctx.current
        utterance.chars += len(text)
        utterance.counted += counted
        utterance.transcript.add(text)
        ctx.last_text = time.monotonic()
        self._release_on_busy(ctx, utterance.stream.add_text, text)
        ctx.wake.set()

    def _flush(self, context_id: str | None) -> None:
        """End the utterance; with nothing buffered an empty one is queued, so every flush is
        answered by one ``audio_end``, after the audio of the utterances before it."""
        ctx = self._context(context_id)
        if ctx.closing:
            raise ProtocolError(
                f"context {ctx.id!r} is closed; open a new context_id",
                code=ErrorCode.CONTEXT_CLOSED,
            )
        if ctx.current is None:
            ctx.current = self._open_utterance(ctx, shared=False)
        self._end_current(ctx)

    def _end_current(self, ctx: _Context) -> None:
        if ctx.current is None:
            return
        utterance = ctx.current
        try:
            self._release_on_busy(ctx, utterance.stream.end)
        finally:
            ctx.current = None
            ctx.wake.set()

    def _open_utterance(self, ctx: _Context, *, shared: bool) -> _Utterance:
        """A new utterance for ``ctx``, counted against the shares when ``shared`` (one
        that has text to speak); it takes no scheduler place until it has a chunk."""
        taken: list[Share] = []
        if shared:
            try:
                for share in self.shares:
                    share.acquire()
                    taken.append(share)
            except ProtocolError:
                for share in taken:
                    share.release()
                raise
        stream = self.engine.open_stream(self._options(ctx.config))
        utterance = _Utterance(stream, ctx.config, shares=taken)
        ctx.utterances.append(utterance)
        self._ensure_task(ctx)
        return utterance

    def _release_on_busy(self, ctx: _Context, call: Any, *args: Any) -> None:
        """Run a stream call that may queue chunks; if the server has no place for them
        (CapacityError), the utterance is dropped before the error goes up."""
        try:
            call(*args)
        except CapacityError:
            if ctx.current is not None:
                ctx.current.stream.cancel()
                ctx.current = None
                ctx.wake.set()
            raise

    def _check_room(self, ctx: _Context, chars: int) -> None:
        """Refuse text beyond what a context, or the session, may have waiting."""
        limit = self.limits.max_context_chars
        waiting = ctx.waiting_chars
        if limit is not None and waiting + chars > limit:
            raise ProtocolError(
                f"context {ctx.id!r} has {waiting} characters waiting to be spoken; {chars} "
                f"more would pass the limit of {limit} per context: flush and wait for its "
                "audio, or send less at a time",
                code=ErrorCode.INPUT_TOO_LONG,
            )
        limit = self.limits.max_pending_chars
        waiting = sum(c.waiting_chars for c in self._contexts.values())
        if limit is not None and waiting + chars > limit:
            raise ProtocolError(
                f"this connection has {waiting} characters waiting to be spoken; {chars} more "
                f"would pass the limit of {limit}: wait for audio, or cancel a context",
                code=ErrorCode.TOO_MUCH_PENDING_TEXT,
            )

    async def _cancel(self, context_id: str | None) -> None:
        """Stop the context; ``cancelled`` goes out once no more of its audio can follow."""
        cid = context_id or DEFAULT_CONTEXT
        ctx = self._contexts.get(cid)
        if ctx is not None:
            await self._stop(ctx)
            if ctx.closing:
                self._contexts.pop(cid, None)
            await self._out.drop_audio(cid)
        await self._emit(Cancelled(context_id=cid))

    def _close_context(self, context_id: str, reason: str | None = None) -> None:
        ctx = self._context(context_id)
        try:
            self._end_current(ctx)  # raises for unspeakable buffered text, after queueing
        finally:
            ctx.closing = True
            ctx.close_reason = ctx.close_reason or reason
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
        await self._out.wake()
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
            utterance.retire()
        ctx.utterances.clear()
        ctx.current = None

    async def aclose(self) -> None:
        """Cancel everything at once and end :meth:`events` (the transport went away)."""
        self._closing = True
        if self._watcher is not None:
            self._watcher.cancel()
            await asyncio.gather(self._watcher, return_exceptions=True)
        for ctx in list(self._contexts.values()):
            await self._stop(ctx)
        self._contexts.clear()
        self._closed = True
        await self._out.close()

    @property
    def busy(self) -> bool:
        """Something is queued for synthesis or playing (open but idle contexts are not)."""
        return any(ctx.working for ctx in self._contexts.values())

    def idle_s(self) -> float:
        """Seconds since the last message that did something or the last audio; 0 while
        :attr:`busy`."""
        return 0.0 if self.busy else time.monotonic() - self._last_active

    @property
    def queued_events(self) -> int:
        """Events waiting for the reader."""
        return len(self._out)

    @property
    def queued_bytes(self) -> int:
        """Bytes of audio waiting for the reader."""
        return self._out.audio_bytes

    async def events(self) -> AsyncIterator[Event]:
        """Server events in order, until the session is closed and everything was read."""
        while (event := await self._out.take(self._finished)) is not None:
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
                raise ProtocolError("the session is closing", code=ErrorCode.SESSION_CLOSED)
            if len(self._contexts) >= self.max_contexts:
                raise ProtocolError(
                    f"too many open contexts (limit {self.max_contexts}); close one with "
                    "close_context or cancel it first",
                    code=ErrorCode.TOO_MANY_CONTEXTS,
                )
            ctx = _Context(id=cid, config=self.config)
            self._contexts[cid] = ctx
            self._ensure_task(ctx)
            self._ensure_watcher()
        return ctx

    def _touch(self, context_id: str | None) -> None:
        """A message that does something: the session, and its context, are not idle."""
        now = time.monotonic()
        self._last_active = now
        ctx = self._contexts.get(context_id or DEFAULT_CONTEXT)
        if ctx is not None:
            ctx.last_active = now

    def _ensure_watcher(self) -> None:
        limits = self.limits
        timers = [t for t in (limits.flush_after, limits.context_idle_timeout) if t]
        if timers and self._watcher is None:
            tick = min(timers) / 4
            self._watcher = asyncio.create_task(self._watch(tick), name=f"session-{self.id}")

    async def _watch(self, tick: float) -> None:
        """Every ``tick`` seconds: speak text left unflushed, give back the scheduler place
        of paused utterances, close idle contexts."""
        while not self._finished():
            await asyncio.sleep(tick)
            for ctx in list(self._contexts.values()):
                try:
                    self._check_quiet(ctx, time.monotonic())
                except CapacityError as exc:
                    await self._emit(_busy(exc, ctx.id))
                except InvalidInputError as exc:
                    await self._emit(
                        Error(str(exc), code=ErrorCode.INVALID_REQUEST, context_id=ctx.id)
                    )

    def _check_quiet(self, ctx: _Context, now: float) -> None:
        flush_after = self.limits.flush_after
        idle_after = self.limits.context_idle_timeout
        if ctx.closing:
            return
        utterance = ctx.current
        if utterance is not None and flush_after and now - ctx.last_text >= flush_after:
            self._release_on_busy(ctx, utterance.stream.flush)  # speak what is buffered
            utterance.stream.release()  # and once it is spoken, give the place back
        if idle_after and now - ctx.last_active >= idle_after and not ctx.working:
            self._close_context(ctx.id, reason="idle_timeout")

    def _checked(self, config: SessionConfig) -> SessionConfig:
        self._options(config)
        return config

    def _options(self, config: SessionConfig) -> SynthesisOptions:
        return self.engine.options(**config.model_dump(include=set(OPTION_NAMES)))

    def _ensure_task(self, ctx: _Context) -> None:
        if ctx.task is None or ctx.task.done():
            ctx.task = asyncio.create_task(self._run_context(ctx), name=f"context-{ctx.id}")

    async def _emit(self, event: Event, *, audio: bool = False) -> None:
        """Queue an event for the reader; wait while the queue is full (a reader that
        stops reading stops the session, whose memory stays bounded). Dropped once closed."""
        await self._out.put(event, audio=audio)

    async def _run_context(self, ctx: _Context) -> None:
        """Play the context's utterances in order; close it when asked and drained."""
        while True:
            if not ctx.utterances:
                if ctx.closing:
                    self._contexts.pop(ctx.id, None)
                    await self._emit(ContextClosed(context_id=ctx.id, reason=ctx.close_reason))
                    await self._out.wake()
                    return
                ctx.wake.clear()
                await ctx.wake.wait()
                continue
            utterance = ctx.utterances[0]
            try:
                await self._play(ctx, utterance)
            except SupertonicError as exc:
                await self._emit(
                    Error(str(exc), code=ErrorCode.SYNTHESIS_FAILED, context_id=ctx.id)
                )
            except Exception:  # a failed ONNX call: report it, keep the context usable
                logger.exception("context %s: synthesis failed", ctx.id)
                await self._emit(
                    Error(
                        "synthesis failed (internal error; the details are in the log)",
                        code=ErrorCode.SYNTHESIS_FAILED,
                        context_id=ctx.id,
                    )
                )
            finally:
                utterance.retire()
            if ctx.utterances and ctx.utterances[0] is utterance:
                ctx.utterances.popleft()

    async def _play(self, ctx: _Context, utterance: _Utterance) -> None:
        config = utterance.config
        rate = config.sample_rate or self.engine.sample_rate
        encoding = config.encoding or "pcm_s16le"
        path = AudioPath(self.engine.sample_rate, raw_encoder(encoding, rate))
        first_audio: float | None = None
        audio_s = 0.0
        chunks = 0
        last: AudioChunk | None = None
        async for chunk in utterance.stream:
            if first_audio is None:
                first_audio = time.monotonic()
                ttfb = (first_audio - utterance.started) * 1000
                await self._emit(
                    AudioStart(
                        context_id=ctx.id,
                        ttfb_ms=round(ttfb, 1),
                        voice=config.voice or "",
                        lang=config.lang or "",
                        encoding=encoding,
                    )
                )
            utterance.spoken += len(chunk.text)
            text_end = utterance.transcript.through(chunk.words)
            await self._send_audio(
                ctx, path, chunk.text, chunk.offset, chunk.words, text_end, chunk.samples
            )
            audio_s += chunk.duration
            chunks += 1
            last = chunk
        if first_audio is None:  # nothing speakable, or cancelled before any audio
            if utterance.stream.cancelled:
                return
            first_audio = time.monotonic()
        end = last.offset + last.duration if last else 0.0
        # the resampler's tail, if any
        await self._send_audio(ctx, path, "", end, (), utterance.transcript.end)
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
        path: AudioPath,
        text: str,
        offset: float,
        words: tuple[WordTiming, ...],
        text_end: int,
        samples: np.ndarray | None = None,
    ) -> None:
        """One ``audio`` event: ``samples`` through the audio path, or with none, the path's
        tail (sent only when it holds audio)."""
        before = path.samples_out
        data = await (path.push(samples) if samples is not None else path.finish())
        if samples is None and not data:
            return
        event = Audio(
            context_id=ctx.id,
            seq=ctx.seq,
            audio=data,
            encoding=path.encoder.format,
            sample_rate=path.sample_rate,
            offset_s=offset,
            duration_s=(path.samples_out - before) / path.sample_rate,
            text=text,
            words=words,
            text_end=text_end,
        )
        ctx.seq += 1
        await self._emit(event, audio=True)
        ctx.last_active = self._last_active = time.monotonic()


def _busy(exc: CapacityError, context_id: str | None) -> Error:
    return Error(
        f"{exc}; the utterance was dropped: send its text again later",
        code=ErrorCode.BUSY,
        context_id=context_id,
    )
