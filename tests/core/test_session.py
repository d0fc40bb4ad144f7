"""The speech session (in-process): contexts, auto-release, flush, cancel, errors, encodings."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import AsyncIterator, Callable, Iterator

import numpy as np
import pytest
from supertonic_core import Engine, g711
from supertonic_core.protocol import (
    Audio,
    AudioEnd,
    AudioStart,
    Cancelled,
    ConfigAck,
    ContextClosed,
    Error,
    Event,
    Pong,
    SessionConfig,
    parse_server_message,
    to_message,
)
from supertonic_core.session import SessionLimits, Share, SpeechSession


class Reader:
    """Reads a session's events in the background so tests can wait for what they expect."""

    def __init__(self, session: SpeechSession) -> None:
        self.events: list[Event] = []
        self._new = asyncio.Event()
        self.task = asyncio.create_task(self._read(session.events()))

    async def _read(self, events: AsyncIterator[Event]) -> None:
        async for event in events:
            self.events.append(event)
            self._new.set()

    async def wait_for(self, predicate: Callable[[Event], bool], timeout: float = 20.0) -> Event:
        async with asyncio.timeout(timeout):
            while True:
                for event in self.events:
                    if predicate(event):
                        return event
                self._new.clear()
                await self._new.wait()

    def of(self, kind: type, context_id: str | None = None) -> list:
        return [
            e
            for e in self.events
            if isinstance(e, kind)
            and (context_id is None or getattr(e, "context_id", None) == context_id)
        ]


@pytest.fixture
async def session(engine: Engine):
    s = SpeechSession(engine, max_contexts=3)
    yield s
    await s.aclose()


async def test_config_text_flush_flow(session: SpeechSession) -> None:
    reader = Reader(session)
    await session.handle(
        json.dumps(
            {"type": "config", "voice": "alloy", "lang": "en", "speed": 1.05, "total_steps": 4}
        )
    )
    ack = await reader.wait_for(lambda e: isinstance(e, ConfigAck))
    assert ack.config["voice"] == "alloy" and ack.config["steps"] == 4
    await session.handle(json.dumps({"type": "text", "text": "Hello, "}))
    await session.handle(json.dumps({"type": "text", "text": "world."}))
    await session.handle(json.dumps({"type": "flush"}))
    end = await reader.wait_for(lambda e: isinstance(e, AudioEnd))
    kinds = [type(e) for e in reader.events]
    assert kinds.index(AudioStart) < kinds.index(Audio) < kinds.index(AudioEnd)
    audio = reader.of(Audio)
    assert "".join(a.text for a in audio if a.text) == "Hello, world."
    assert end.stats["audio_s"] > 0 and end.stats["chunks"] >= 1 and end.stats["synthetic"] is True
    total = sum(len(a.audio) for a in audio) / 2 / 44100
    assert total == pytest.approx(end.stats["audio_s"], abs=0.05)


async def test_first_chunk_steps_reach_the_first_chunk_only(
    session: SpeechSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    steps: list[int] = []
    submit = session.engine.scheduler.submit

    def spy(request):
        steps.append(request.steps)
        return submit(request)

    monkeypatch.setattr(session.engine.scheduler, "submit", spy)
    reader = Reader(session)
    await session.configure(steps=6, first_chunk_steps=2)
    ack = await reader.wait_for(lambda e: isinstance(e, ConfigAck))
    assert ack.config["steps"] == 6 and ack.config["first_chunk_steps"] == 2
    await session.configure(context_id="turn", voice="M1")  # a context inherits it
    ack = await reader.wait_for(lambda e: isinstance(e, ConfigAck) and e.context_id == "turn")
    assert ack.config["first_chunk_steps"] == 2
    await session.send_text("Sure. Let me look that up for you, it takes a moment.", "turn")
    await session.flush("turn")
    await reader.wait_for(lambda e: isinstance(e, AudioEnd))
    assert len(steps) >= 2 and steps[0] == 2 and set(steps[1:]) == {6}


async def test_token_stream_yields_audio_before_the_text_ends(session: SpeechSession) -> None:
    reader = Reader(session)
    text = "The first sentence arrives token by token. The second one is still being written"
    for token in text.split(" ")[:9]:
        await session.send_text(token + " ")
    first = await reader.wait_for(lambda e: isinstance(e, Audio))  # no flush sent yet
    assert first.text == "The first sentence arrives token by token."
    assert first.words[0].word == "The" and first.words[0].start == pytest.approx(0.0)
    for token in text.split(" ")[9:]:
        await session.send_text(token + " ")
    await session.flush()
    await reader.wait_for(lambda e: isinstance(e, AudioEnd))
    spoken = " ".join(a.text for a in reader.of(Audio) if a.text)
    assert spoken.split() == text.split()


async def test_two_contexts_interleave(session: SpeechSession) -> None:
    reader = Reader(session)
    for ctx, text in (
        ("turn-1", "This is the current turn, speaking now."),
        ("turn-2", "And this is the next turn, prefetched."),
    ):
        await session.configure(context_id=ctx, voice="F2" if ctx == "turn-1" else "M1")
        await session.send_text(text, ctx)
        await session.flush(ctx)
    await reader.wait_for(lambda e: isinstance(e, AudioEnd) and e.context_id == "turn-1")
    await reader.wait_for(lambda e: isinstance(e, AudioEnd) and e.context_id == "turn-2")
    for ctx in ("turn-1", "turn-2"):
        audio = reader.of(Audio, ctx)
        assert [a.seq for a in audio] == list(range(len(audio)))
        offsets = [a.offset_s for a in audio]
        assert offsets == sorted(offsets) and offsets[0] == 0.0
    acks = reader.of(ConfigAck)
    assert {a.context_id for a in acks} == {"turn-1", "turn-2"}


async def test_cancel_stops_a_context_and_nothing_follows(session: SpeechSession) -> None:
    reader = Reader(session)
    await session.configure(context_id="long", total_steps=32)
    await session.send_text("One sentence. " * 40, "long")
    await session.send_text("Other context keeps going.", "other")
    await session.flush("other")
    await reader.wait_for(lambda e: isinstance(e, Audio) and e.context_id == "long")
    await session.cancel("long")
    ack = await reader.wait_for(lambda e: isinstance(e, Cancelled))
    assert ack.context_id == "long"
    await reader.wait_for(lambda e: isinstance(e, AudioEnd) and e.context_id == "other")
    after = reader.events[reader.events.index(ack) + 1 :]
    assert not [e for e in after if getattr(e, "context_id", None) == "long"]
    assert not reader.of(AudioEnd, "long")
    # the context is usable again after a cancel
    await session.send_text("Fresh start.", "long")
    await session.flush("long")
    await reader.wait_for(lambda e: isinstance(e, AudioEnd) and e.context_id == "long")
    for _ in range(100):
        if session.engine.scheduler.state()["queued_jobs"] == 0:
            break
        await asyncio.sleep(0.02)
    assert session.engine.scheduler.state()["queued_jobs"] == 0


@pytest.mark.parametrize(
    ("raw", "code", "needle"),
    [
        ("{not json", "invalid_json", "malformed JSON"),
        (json.dumps({"type": "dance"}), "unknown_type", "'dance'"),
        (json.dumps(["text"]), "invalid_message", "JSON object"),
        (json.dumps({"type": "text", "text": 5}), "invalid_text", "must be a string"),
        (json.dumps({"type": "text", "text": "x" * 70000}), "message_too_large", "larger than"),
        (json.dumps({"type": "config", "sample_rate": 12345}), "invalid_config", "sample_rate"),
        (json.dumps({"type": "config", "encoding": "ogg"}), "invalid_config", "encoding"),
        (json.dumps({"type": "config", "pitch": 3}), "invalid_config", "pitch"),
        (json.dumps({"type": "config", "voice": "Z9"}), "invalid_config", "unknown voice 'Z9'"),
        (json.dumps({"type": "config", "speed": 9}), "invalid_config", "speed"),
        (json.dumps({"type": "config", "lang": "xx"}), "invalid_config", "'xx'"),
        (
            json.dumps({"type": "config", "first_chunk_steps": 0}),
            "invalid_config",
            "first_chunk_steps must be between 1 and 32, got 0",
        ),
        (
            json.dumps({"type": "config", "first_chunk_steps": 33}),
            "invalid_config",
            "first_chunk_steps",
        ),
        (json.dumps({"type": "config", "voice": "F1*1e999"}), "invalid_config", "F1*1e999"),
        (
            json.dumps({"type": "config", "first_chunk_steps": "4"}),
            "invalid_config",
            "first_chunk_steps must be an integer",
        ),
        (json.dumps({"type": "close_context"}), "invalid_message", "context_id"),
        (
            json.dumps({"type": "text", "text": "hi", "context_id": ""}),
            "invalid_message",
            "context_id",
        ),
        (b"\x00\x01", "invalid_message", "binary"),
    ],
)
async def test_bad_messages_get_errors_and_the_session_survives(
    session: SpeechSession, raw, code: str, needle: str
) -> None:
    reader = Reader(session)
    await session.handle(raw)
    error = await reader.wait_for(lambda e: isinstance(e, Error))
    assert error.code == code and needle in error.message and not error.fatal
    await session.send_text("Still works.")
    await session.flush()
    await reader.wait_for(lambda e: isinstance(e, AudioEnd))


async def test_too_many_contexts(session: SpeechSession) -> None:
    reader = Reader(session)
    for i in range(4):
        await session.send_text("Hi.", f"c{i}")
    error = await reader.wait_for(lambda e: isinstance(e, Error))
    assert error.code == "too_many_contexts" and error.context_id == "c3"


async def test_text_after_close_context(session: SpeechSession) -> None:
    reader = Reader(session)
    await session.send_text("Last words.", "c")
    await session.close_context("c")
    await session.send_text("Too late.", "c")
    error = await reader.wait_for(lambda e: isinstance(e, Error))
    assert error.code == "context_closed"
    await reader.wait_for(lambda e: isinstance(e, ContextClosed) and e.context_id == "c")
    assert "c" not in session.contexts


async def test_unsupported_characters_error_names_them(session: SpeechSession) -> None:
    reader = Reader(session)
    await session.send_text("Fine first sentence here. Math ∑ here. And a fine last one.")
    await session.flush()
    error = await reader.wait_for(lambda e: isinstance(e, Error))
    assert "∑" in error.message and error.code == "invalid_request"
    await reader.wait_for(lambda e: isinstance(e, AudioEnd))  # the rest is still spoken
    spoken = [a.text for a in reader.of(Audio) if a.text]
    assert spoken == ["Fine first sentence here.", "And a fine last one."]


async def test_close_context_closes_even_when_its_last_text_is_unspeakable(
    session: SpeechSession,
) -> None:
    # The bad sentence is still buffered when close_context flushes it: the error must
    # not leave the context open (each one would hold one of max_contexts for good).
    reader = Reader(session)
    for i in range(4):  # more than max_contexts=3
        await session.send_text("Math \u2211 here.", f"bad{i}")
        await session.close_context(f"bad{i}")
        await reader.wait_for(
            lambda e, i=i: isinstance(e, ContextClosed) and e.context_id == f"bad{i}"
        )
    assert len(reader.of(Error)) == 4
    assert all("\u2211" in e.message for e in reader.of(Error))
    assert session.contexts == []


async def test_a_failing_graph_is_reported_and_the_context_survives(
    session: SpeechSession, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    original = engine.runtime.run
    failures = iter([True])

    def flaky(graph: str, feeds: dict) -> object:
        if next(failures, False):
            raise RuntimeError("onnxruntime failed")
        return original(graph, feeds)

    monkeypatch.setattr(engine.runtime, "run", flaky)
    reader = Reader(session)
    await session.send_text("This chunk fails.", "f")
    await session.flush("f")
    error = await reader.wait_for(lambda e: isinstance(e, Error))
    assert error.code == "synthesis_failed" and error.context_id == "f"
    assert "onnxruntime" not in error.message  # internals stay in the log
    await session.send_text("This one works.", "f")
    await session.flush("f")
    await reader.wait_for(lambda e: isinstance(e, AudioEnd) and e.context_id == "f")


async def test_punctuation_only_is_not_an_error(session: SpeechSession) -> None:
    reader = Reader(session)
    await session.send_text("...")
    await session.flush()
    end = await reader.wait_for(lambda e: isinstance(e, AudioEnd))
    assert not reader.of(Error)
    assert end.stats["chunks"] == 1


@pytest.mark.parametrize(
    ("encoding", "rate", "width"),
    [("pcm_s16le", 16000, 2), ("pcm_f32le", 24000, 4), ("mulaw", 8000, 1), ("alaw", 8000, 1)],
)
async def test_encodings_and_rates(
    session: SpeechSession, encoding: str, rate: int, width: int
) -> None:
    reader = Reader(session)
    await session.configure(encoding=encoding, sample_rate=rate)
    await session.send_text("Resampled and encoded audio, please.")
    await session.flush()
    end = await reader.wait_for(lambda e: isinstance(e, AudioEnd))
    audio = reader.of(Audio)
    assert {a.encoding for a in audio} == {encoding} and {a.sample_rate for a in audio} == {rate}
    samples = sum(len(a.audio) for a in audio) / width
    assert samples / rate == pytest.approx(end.stats["audio_s"], abs=0.05)
    if encoding in ("mulaw", "alaw"):  # exactness: tests/core/test_g711.py, tests/server/test_ws.py
        assert np.abs(g711.decode(b"".join(a.audio for a in audio), encoding)).max() > 0


async def test_close_ends_events_after_audio(engine: Engine) -> None:
    session = SpeechSession(engine)
    reader = Reader(session)
    await session.send_text("Goodbye now.")
    await session.close()
    await asyncio.wait_for(reader.task, 20)
    assert reader.of(AudioEnd) and isinstance(reader.events[-1], ContextClosed)


async def test_ping(session: SpeechSession) -> None:
    reader = Reader(session)
    await session.handle('{"type": "ping"}')
    await reader.wait_for(lambda e: isinstance(e, Pong))


async def test_slow_reader_bounds_the_queue(released_split: Engine) -> None:
    """Nobody reads: once two audio events wait, the session waits too, and so does
    synthesis (the scheduler runs dry with the reply unfinished); the reader's return
    resumes it. No clock: the test waits for the session to find its queue full."""
    engine = released_split  # a chunk per sentence
    session = SpeechSession(engine, max_queued_audio=2)
    found_full = asyncio.Event()
    outbox = session._out
    full = outbox._full

    def watched(audio: bool) -> bool:
        answer = full(audio)
        if answer:
            found_full.set()
        return answer

    outbox._full = watched  # type: ignore[method-assign]
    try:
        await session.send_text(" ".join(f"This is sentence number {n}." for n in range(12)))
        await session.flush()
        await asyncio.wait_for(found_full.wait(), 20)
        for _ in range(2000):  # what was submitted before the wait finishes; nothing after
            if engine.scheduler.state()["queued_jobs"] == 0:
                break
            await asyncio.sleep(0.01)
        assert engine.scheduler.state()["queued_jobs"] == 0
        assert sum(isinstance(e, Audio) for e in session._out) == 2
        assert session.busy and not any(isinstance(e, AudioEnd) for e in session._out)
        end = await Reader(session).wait_for(lambda e: isinstance(e, AudioEnd))
        assert end.stats["chunks"] > 5  # more than the queue, the wait and the lookahead
    finally:
        await session.aclose()


@pytest.mark.parametrize(
    "msg",
    [
        {"type": "x" * 60000},
        {"type": "config", "x" * 60000: 1},
        {"type": "config", "normalize": ["x" * 60000]},
        {"type": "config", "voice": "x" * 60000},
        {"type": "text", "text": "hi", "context_id": "x" * 60000},
    ],
)
async def test_errors_quote_at_most_a_little_of_what_the_client_sent(
    session: SpeechSession, msg: dict
) -> None:
    """A client that sends 60 KB names and never reads must not make the server hold 60 KB
    per answer: every value an error echoes is shortened."""
    reader = Reader(session)
    await session.handle(json.dumps(msg))
    error = await reader.wait_for(lambda e: isinstance(e, Error))
    assert len(error.message) < 1000 and len(error.context_id or "") <= 128


async def until_synthesis_waits(session: SpeechSession, engine: Engine) -> None:
    """Poll (bounded) until the session has output queued and the engine has nothing left to
    run: with nobody reading, that is where the session waits for room."""
    async with asyncio.timeout(30):
        while not (session.queued_events and engine.scheduler.state()["queued_jobs"] == 0):
            await asyncio.sleep(0.01)


async def test_a_reader_that_stops_holds_the_session_to_its_bytes(engine: Engine) -> None:
    """Audio waiting for a reader is bounded in bytes, not only in events: sixteen queued
    chunks of float32 at 48 kHz were over 50 MB per socket. With a bound under one chunk,
    one chunk waits (the session always lets one through) and synthesis stops behind it;
    nothing is lost once the reader comes back."""
    text = " ".join(f"Sentence number {n} is here to be spoken." for n in range(12))
    session = SpeechSession(
        engine,
        config=SessionConfig(encoding="pcm_f32le", sample_rate=48000),
        limits=SessionLimits(max_queued_bytes=10_000),
    )
    try:
        await session.send_text(text)
        await session.flush()
        await until_synthesis_waits(session, engine)
        queued = [e for e in session._out if isinstance(e, Audio)]
        assert len(queued) == 1 and session.queued_bytes == len(queued[0].audio)
        reader = Reader(session)
        await reader.wait_for(lambda e: isinstance(e, AudioEnd))
        spoken = " ".join(a.text for a in reader.of(Audio) if a.text)
        assert spoken == text
    finally:
        await session.aclose()


@pytest.mark.parametrize("binary", [False, True])
def test_audio_message_round_trip(binary: bool) -> None:
    from supertonic_core.timing import WordTiming

    event = Audio(
        context_id="c",
        seq=3,
        audio=bytes(range(256)),  # every base64 character, "+" and "/" included
        encoding="pcm_s16le",
        sample_rate=24000,
        offset_s=1.5,
        duration_s=0.25,
        text="Hi there.",
        words=(WordTiming("Hi", 1.5, 1.6), WordTiming("there.", 1.6, 1.75)),
    )
    text, payload = to_message(event, binary=binary)
    msg = json.loads(text)  # standard JSON, audio in standard base64 unless binary
    assert (payload is not None) == binary
    if not binary:
        assert base64.b64decode(msg["chunk"]) == event.audio
    assert parse_server_message(text, payload) == event


# ------------------------------------------------------------------ what a session may hold


@pytest.fixture
def one_slot(tiny_bundle) -> Iterator[Engine]:
    """An engine with one playing place, held by a stream nobody reads: whatever a session
    queues waits for admission, so nothing of it is spoken while a test looks."""
    with Engine(tiny_bundle, max_streams=1, max_queue=16) as eng:
        holder = eng.open_stream(eng.options(seed=0))
        holder.add_text("Holding the only place.")
        holder.flush()
        yield eng
        holder.close()


async def test_unflushed_text_holds_no_scheduler_place(engine: Engine) -> None:
    session = SpeechSession(engine, max_contexts=8)
    try:
        for n in range(8):
            await session.send_text("hello", f"c{n}")
        state = engine.scheduler.state()
        assert state["active_streams"] == 0 and state["waiting_streams"] == 0
    finally:
        await session.aclose()


async def test_unflushed_text_is_spoken_after_quiet_and_the_place_given_back(
    engine: Engine,
) -> None:
    session = SpeechSession(engine, limits=SessionLimits(flush_after=0.2))
    reader = Reader(session)
    try:
        await session.send_text("Hello there", "c")
        audio = await reader.wait_for(lambda e: isinstance(e, Audio) and bool(e.text))
        assert audio.text == "Hello there" and not reader.of(AudioEnd)
        await asyncio.wait_for(_until(lambda: engine.scheduler.state()["active_streams"] == 0), 20)
        await session.send_text(" and goodbye.", "c")  # the same utterance goes on
        await session.flush("c")
        end = await reader.wait_for(lambda e: isinstance(e, AudioEnd))
        assert end.stats["chars"] == len("Hello there and goodbye.")
    finally:
        await session.aclose()


async def test_an_idle_context_is_closed_with_a_reason(engine: Engine) -> None:
    session = SpeechSession(engine, limits=SessionLimits(context_idle_timeout=0.3))
    reader = Reader(session)
    try:
        await session.send_text("Short.", "spoken")
        await session.flush("spoken")
        await session.configure("quiet", voice="M1")  # a context with nothing to say
        closed = {
            (
                await reader.wait_for(
                    lambda e, c=c: isinstance(e, ContextClosed) and e.context_id == c
                )
            )
            for c in ("spoken", "quiet")
        }
        assert {c.reason for c in closed} == {"idle_timeout"}
        kinds = [type(e) for e in reader.events if getattr(e, "context_id", None) == "spoken"]
        assert kinds.index(AudioEnd) < kinds.index(ContextClosed)
        assert session.contexts == []
    finally:
        await session.aclose()


async def test_shares_bound_utterances_in_progress(one_slot: Engine) -> None:
    key = Share(3, "this API key")
    first = SpeechSession(one_slot, shares=[Share(2, "this connection"), key])
    second = SpeechSession(one_slot, shares=[Share(2, "this connection"), key])
    readers = Reader(first), Reader(second)
    try:
        await first.send_text("One.", "a")
        await first.send_text("Two.", "b")
        await first.send_text("Three.", "c")
        err = await readers[0].wait_for(lambda e: isinstance(e, Error))
        assert err.code == "too_many_utterances" and "this connection" in err.message
        await second.send_text("Four.", "d")
        await second.send_text("Five.", "e")
        err = await readers[1].wait_for(lambda e: isinstance(e, Error))
        assert err.code == "too_many_utterances" and "this API key" in err.message
        await first.cancel("a")
        await readers[0].wait_for(lambda e: isinstance(e, Cancelled))
        await second.send_text("Five.", "e")  # a unit came back
        await second.handle('{"type": "ping"}')
        await readers[1].wait_for(lambda e: isinstance(e, Pong))
        assert len(readers[1].of(Error)) == 1 and key.used == 3
    finally:
        await first.aclose()
        await second.aclose()
    assert key.used == 0


async def test_text_waiting_is_capped_per_context_and_per_session(one_slot: Engine) -> None:
    limits = SessionLimits(max_context_chars=100, max_pending_chars=150)
    session = SpeechSession(one_slot, limits=limits)
    reader = Reader(session)
    try:
        await session.send_text("x" * 90, "a")
        await session.send_text("y" * 20, "a")
        err = await reader.wait_for(lambda e: isinstance(e, Error))
        assert err.code == "input_too_long" and err.context_id == "a" and "100" in err.message
        await session.send_text("z" * 50, "b")
        await session.send_text("w" * 20, "c")
        err = await reader.wait_for(lambda e: isinstance(e, Error) and e.context_id == "c")
        assert err.code == "too_much_pending_text" and "150" in err.message
    finally:
        await session.aclose()


async def test_every_event_kind_is_bounded_for_a_reader_that_stops(engine: Engine) -> None:
    session = SpeechSession(engine, limits=SessionLimits(max_queued_events=8))
    pings = asyncio.create_task(_many(session, '{"type": "ping"}', 50))
    await asyncio.wait_for(_until(lambda: session.queued_events == 8), 10)
    await asyncio.sleep(0)
    assert session.queued_events == 8 and not pings.done()  # the sender waits, memory does not
    await session.aclose()
    await asyncio.wait_for(pings, 10)


async def test_an_empty_flush_is_answered_by_audio_end_in_order(session: SpeechSession) -> None:
    reader = Reader(session)
    await session.flush("nothing")
    end = await reader.wait_for(lambda e: isinstance(e, AudioEnd))
    assert end.context_id == "nothing" and end.stats["chars"] == 0
    await session.send_text("Something to say first.", "c")
    await session.flush("c")
    await session.flush("c")  # nothing left: answered after the first utterance's end
    await reader.wait_for(lambda e: len(reader.of(AudioEnd, "c")) == 2)
    ends = reader.of(AudioEnd, "c")
    assert ends[0].stats["chars"] > 0 and ends[1].stats["chars"] == 0


async def test_audio_start_names_the_context_voice_and_language(session: SpeechSession) -> None:
    reader = Reader(session)
    await session.configure(voice="F2")
    await session.configure("c", voice="M3", encoding="mulaw", sample_rate=8000)
    await session.send_text("Which voice is this?", "c")
    await session.flush("c")
    start = await reader.wait_for(lambda e: isinstance(e, AudioStart))
    assert (start.voice, start.lang, start.encoding) == ("M3", "en", "mulaw")


async def _many(session: SpeechSession, raw: str, count: int) -> None:
    for _ in range(count):
        await session.handle(raw)


async def _until(predicate: Callable[[], bool]) -> None:
    while not predicate():
        await asyncio.sleep(0.02)


@pytest.mark.parametrize(
    "text",
    [
        "Hello there. This is the second sentence, with a comma. And a third one!",
        "It costs **$12.50** today. The meeting is at 3:30 pm, in room 4. See you there.",
        "The the the word repeats: the end. The last the.",
    ],
)
async def test_audio_says_how_far_it_has_spoken_in_the_text_as_sent(
    released_split: Engine, text: str
) -> None:
    """``text_end`` of each audio message: where its chunk's words end in the utterance's
    text, as the client sent it (in pieces, normalised or not). A client resuming elsewhere
    sends what follows: nothing lost, nothing twice."""
    session = SpeechSession(released_split)
    reader = Reader(session)
    try:
        for start in range(0, len(text), 7):  # token-sized pieces
            await session.send_text(text[start : start + 7])
        await session.flush()
        await reader.wait_for(lambda e: isinstance(e, AudioEnd))
        ends = [(a.text, a.text_end) for a in reader.of(Audio)]
        spoken = [(t, end) for t, end in ends if t]
        assert len(spoken) > 1
        assert [end for _, end in ends] == sorted(end for _, end in ends)
        previous = 0
        for chunk_text, end in spoken:
            said = text[previous:end]
            assert said.split()[-1].strip("*") == chunk_text.split()[-1].strip("*"), (
                said,
                chunk_text,
            )
            previous = end
        assert text[previous:].strip(" *") == ""
    finally:
        await session.aclose()
