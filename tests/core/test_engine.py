"""The engine on the tiny synthetic bundle: options, synthesis, batching, streaming, joins."""

from __future__ import annotations

import asyncio
import itertools
import threading

import numpy as np
import pytest
from supertonic_core import (
    EmptyTextError,
    Engine,
    InvalidOptionError,
    SynthesisOptions,
    UnknownLanguageError,
    UnknownVoiceError,
    UnsupportedCharactersError,
)
from supertonic_core.chunk_request import CancelToken, ChunkRequest
from supertonic_core.scheduler import Scheduler
from supertonic_core.synthesis import Stage

TEXT = "Hello there, my friend. This is a second sentence, somewhat longer. And a third one!"


def test_info_says_synthetic(engine: Engine) -> None:
    info = engine.info()
    assert info["synthetic"] is True
    assert info["sample_rate"] == 44100
    assert "CPUExecutionProvider" in info["providers"]
    assert "alloy" in info["voices"] and "F1" in info["voices"]
    assert len(info["languages"]) == 32


@pytest.mark.parametrize(
    ("overrides", "error", "needle"),
    [
        ({"speed": 3.0}, InvalidOptionError, "speed must be between 0.5 and 2.0, got 3.0"),
        ({"speed": 0.1}, InvalidOptionError, "speed"),
        ({"speed": "fast"}, InvalidOptionError, "'fast'"),
        ({"steps": 0}, InvalidOptionError, "steps must be between 1 and 32, got 0"),
        ({"steps": 33}, InvalidOptionError, "33"),
        ({"steps": 2.5}, InvalidOptionError, "integer"),
        ({"seed": -1}, InvalidOptionError, "seed"),
        ({"voice": "F9"}, UnknownVoiceError, "unknown voice 'F9'"),
        ({"voice": "F1*0.5+Z3"}, UnknownVoiceError, "'Z3'"),
        ({"voice": "F1*-1+M1"}, UnknownVoiceError, "F1*-1+M1"),
        ({"lang": "xx"}, UnknownLanguageError, "unknown language 'xx'"),
        ({"pitch": 2}, InvalidOptionError, "pitch"),
    ],
)
def test_bad_options_name_the_value(engine: Engine, overrides, error, needle) -> None:
    with pytest.raises(error) as info:
        engine.options(**overrides)
    assert needle in str(info.value)
    assert isinstance(info.value, ValueError)


def test_unknown_voice_lists_valid_voices(engine: Engine) -> None:
    with pytest.raises(UnknownVoiceError) as info:
        engine.options(voice="nobody")
    for name in ("F1", "M5", "alloy", "fable"):
        assert name in info.value.allowed
        assert name in str(info.value)


@pytest.mark.parametrize("text", ["", "   \n\t "])
def test_empty_text_is_an_error(engine: Engine, text: str) -> None:
    with pytest.raises(EmptyTextError):
        engine.check_text(text, "en")


def test_unsupported_characters_are_listed(engine: Engine) -> None:
    with pytest.raises(UnsupportedCharactersError) as info:
        engine.check_text("Sum ∑ costs 5 €", "en", normalize=False)
    assert "∑" in info.value.characters and "€" in info.value.characters
    assert "U+2211" in str(info.value)
    with pytest.raises(UnsupportedCharactersError) as info:
        engine.check_text("Sum ∑ costs 5 €", "en")  # normalised: "five euros"
    assert info.value.characters == ["∑"]


def test_unsupported_characters_are_quoted_as_sent(engine: Engine) -> None:
    # NFKD turns the alef symbol into the Hebrew letter: the error names what was sent.
    with pytest.raises(UnsupportedCharactersError) as info:
        engine.check_text("Set \u2135 zero", "en")
    assert info.value.characters == ["\u2135"]
    assert "U+2135" in str(info.value) and "\u05d0" not in str(info.value)


@pytest.mark.parametrize("control", ["\x00", "\x07", "\x1b", "\x7f", "\x9b"])
def test_control_characters_are_refused(engine: Engine, control: str) -> None:
    with pytest.raises(UnsupportedCharactersError) as info:
        engine.check_text(f"Hello{control} there.", "en")
    assert info.value.characters == [control]
    assert "control" in str(info.value)


def test_whitespace_controls_are_spaces(engine: Engine) -> None:
    engine.check_text("Tab\there,\r\nnew line\x0bthen\x0cpage.", "en")


def test_only_unsupported_characters(engine: Engine) -> None:
    with pytest.raises(UnsupportedCharactersError):
        engine.check_text("∑∑ €", "en")


def test_seed_makes_output_reproducible(released_split: Engine) -> None:
    engine = released_split
    opts = engine.options(seed=42)
    a = engine.synthesize(TEXT, opts)
    b = engine.synthesize(TEXT, opts)
    c = engine.synthesize(TEXT, engine.options(seed=43))
    np.testing.assert_array_equal(a, b)
    assert len(a) == len(c) and not np.array_equal(a, c)


def test_speed_shortens_audio(engine: Engine) -> None:
    slow = engine.synthesize(TEXT, engine.options(speed=0.7, seed=1))
    fast = engine.synthesize(TEXT, engine.options(speed=1.8, seed=1))
    assert len(fast) < len(slow) * 0.6


def test_output_is_bounded_float32(engine: Engine) -> None:
    wav = engine.synthesize("Just one sentence.", engine.options(seed=0))
    assert wav.dtype == np.float32
    assert np.all(np.isfinite(wav)) and np.abs(wav).max() <= 1.0


def _job(
    engine: Engine, text: str, voice: str, speed: float, steps: int, seed: int, **kwargs
) -> ChunkRequest:
    ids = engine.front_end.encode(text, "en")
    return ChunkRequest(ids, engine.style(voice), speed, steps, seed, **kwargs)


def test_batched_rows_equal_solo_rows(engine: Engine, tiny_bundle) -> None:
    """Different lengths, voices, speeds and steps in one call give each row's solo result."""
    specs = [
        ("Short one.", "F1", 1.0, 4, 1),
        ("A considerably longer sentence with many more words in it.", "M2", 1.4, 6, 2),
        ("Medium length sentence here.", "F1*0.6+M3*0.4", 0.8, 3, 3),
    ]
    solo = [engine.scheduler.submit(_job(engine, *s)).result() for s in specs]
    batching = Scheduler(
        engine.runtime,
        sample_rate=tiny_bundle.sample_rate,
        frame=tiny_bundle.samples_per_frame,
        max_batch=8,
        max_padding=1.0,
    )
    try:
        jobs = [_job(engine, *s) for s in specs]
        with batching._cond:  # re-entrant: the worker starts only once every row is queued
            futures = [batching.submit(job) for job in jobs]
        batched = [f.result() for f in futures]
        assert max(batching.batch_sizes) == 3  # they really shared calls
    finally:
        batching.close()
    for a, b in zip(solo, batched, strict=True):
        assert a.shape == b.shape
        np.testing.assert_allclose(a, b, atol=1e-4)


def test_cancellation_stops_between_steps(engine: Engine, tiny_bundle) -> None:
    """A cancelled chunk leaves after the step in progress, not after the whole chunk."""
    gate = threading.Event()
    steps_seen: list[int] = []
    runtime = engine.runtime

    class SlowRuntime:
        def __getattr__(self, name: str) -> object:
            return getattr(runtime, name)

        def run(self, graph, feeds):
            if graph == "vector_estimator":
                steps_seen.append(int(feeds["current_step"][0]))
                if len(steps_seen) == 2:
                    gate.set()
            return runtime.run(graph, feeds)

    sched = Scheduler(SlowRuntime(), sample_rate=44100, frame=3072)  # type: ignore[arg-type]
    try:
        token = CancelToken()
        request = _job(engine, TEXT, "F1", 1.0, 32, 0, token=token)
        original = sched._execute

        def execute(stage, batch, runtime):
            result = original(stage, batch, runtime)
            if gate.is_set():
                token.cancel()
            return result

        sched._execute = execute  # type: ignore[method-assign]
        future = sched.submit(request)
        with sched._cond:
            job = sched._queue.job_of(future)
        with pytest.raises(Exception) as info:
            future.result(timeout=30)
        assert type(info.value).__name__ == "SynthesisCancelledError"
        assert len(steps_seen) == 2  # cancelled after step 2 of 32
        assert job.stage is Stage.DENOISE
    finally:
        sched.close()


async def test_stream_metadata_and_word_timings(released_split: Engine) -> None:
    engine = released_split
    chunks = [c async for c in engine.stream(TEXT, engine.options(seed=5))]
    assert len(chunks) >= 3
    assert chunks[0].offset == 0.0
    for prev, cur in itertools.pairwise(chunks):
        assert cur.offset == pytest.approx(prev.offset + prev.duration)
        assert cur.index == prev.index + 1
    words = [w for c in chunks for w in c.words]
    assert [w.word for w in words] == TEXT.split()
    starts = [w.start for w in words]
    assert starts == sorted(starts)
    for c in chunks:
        assert c.words[0].start == pytest.approx(c.offset)
        assert c.words[-1].end == pytest.approx(c.offset + c.speech_duration)
        assert c.synthetic and c.sample_rate == 44100
        assert len(c.samples) == round(c.duration * 44100)


async def test_first_chunk_is_short(engine: Engine) -> None:
    text = (
        "Well, as I was saying to the committee yesterday afternoon, the long-term plan "
        "for the new building needs far more careful thought than anyone expected."
    )
    chunks = [c async for c in engine.stream(text, engine.options(seed=1))]
    assert len(chunks[0].text) <= engine.first_chunk_chars
    assert " ".join(c.text for c in chunks).split() == text.split()


async def test_joins_fade_and_pause(engine: Engine) -> None:
    chunks = [c async for c in engine.stream(TEXT, engine.options(seed=2))]
    first = chunks[0]
    assert abs(first.samples[0]) < 1e-3  # faded in
    speech_end = round(first.speech_duration * 44100)
    assert np.all(first.samples[speech_end:] == 0)  # pause after ","/"." is silence
    assert first.duration - first.speech_duration >= 0.1
    assert chunks[-1].duration == pytest.approx(chunks[-1].speech_duration)  # no pause at the end


async def test_punctuation_only_chunk_is_a_pause(engine: Engine) -> None:
    stream = engine.open_stream(engine.options(seed=1))
    stream.add_chunk("Hello.")
    stream.add_chunk("...")
    stream.add_chunk("Goodbye.")
    stream.end()
    async with stream:
        chunks = [c async for c in stream]
    assert [c.text for c in chunks] == ["Hello.", "...", "Goodbye."]
    assert chunks[1].speech_duration == 0 and chunks[1].duration > 0 and chunks[1].words == ()


async def test_incremental_text_releases_audio_before_the_end(engine: Engine) -> None:
    stream = engine.open_stream(engine.options(seed=1))
    got: list[str] = []

    async def consume() -> None:
        async for chunk in stream:
            got.append(chunk.text)

    task = asyncio.create_task(consume())
    for token in ["The", "first", "sentence", "is", "here.", "And", "then"]:
        stream.add_text(token + " ")
    for _ in range(200):
        if got:
            break
        await asyncio.sleep(0.01)
    assert got == ["The first sentence is here."]  # audio before the text ended
    stream.add_text("the rest arrives.")
    stream.end()
    await asyncio.wait_for(task, 10)
    assert got[-1] == "And then the rest arrives."
    stream.close()


async def test_cancel_ends_stream_quietly_and_frees_the_scheduler(engine: Engine) -> None:
    stream = engine.open_stream(engine.options(seed=1, steps=32))
    stream.add_text(TEXT * 3)
    stream.end()
    async with stream:
        async for _chunk in stream:
            stream.cancel()
    for _ in range(200):
        if engine.scheduler.state()["queued_jobs"] == 0:
            break
        await asyncio.sleep(0.01)
    state = engine.scheduler.state()
    assert state["queued_jobs"] == 0
    assert state["active_streams"] == 0


async def test_cancel_wakes_an_iteration_waiting_on_a_call_in_progress(tiny_bundle) -> None:
    """The scheduler settles a cancelled job only at its next pick, after the call in
    progress (a long one on a slow device, or one held here): cancel() must not wait for it.
    The HTTP streams a shutdown cancels after its grace were stuck here (issue 22)."""
    entered, gate = threading.Event(), threading.Event()
    with Engine(tiny_bundle) as engine:
        execute = engine.scheduler._execute

        def held(stage: Stage, batch: list, runtime: object) -> list:
            if any(job.index > 0 for job in batch):  # every chunk after the first
                entered.set()
                gate.wait(30)
            return execute(stage, batch, runtime)

        engine.scheduler._execute = held  # type: ignore[method-assign]
        try:
            stream = engine.open_stream(engine.options(seed=1))
            stream.add_text(TEXT * 3)
            stream.end()
            chunks = aiter(stream)
            await anext(chunks)
            assert await asyncio.to_thread(entered.wait, 10)
            rest = asyncio.create_task(_collect(chunks))
            await asyncio.sleep(0)  # the reader now awaits the chunk held in its call
            stream.cancel()
            assert await asyncio.wait_for(rest, 10) == []
            assert not gate.is_set()  # it ended while the call was still in progress
        finally:
            gate.set()
        stream.close()


async def _collect(chunks) -> list:
    return [chunk async for chunk in chunks]


def test_blocking_iteration_matches_async(released_split: Engine) -> None:
    engine = released_split
    opts = engine.options(seed=9)
    blocking = [c.samples for c in engine.iter_chunks(TEXT, opts)]

    async def collect():
        return [c.samples async for c in engine.stream(TEXT, opts)]

    streamed = asyncio.run(collect())
    for a, b in zip(blocking, streamed, strict=True):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize(
    ("lang", "text"),
    [
        ("ko", "안녕하세요. 반갑습니다."),
        ("ja", "日本語の文章です。次の文です。"),
        ("ar", "مرحبا بكم. كيف حالك؟"),
        ("hi", "नमस्ते दुनिया। यह दूसरा वाक्य है।"),
        ("vi", "Xin chào các bạn. Tôi là người Việt."),
    ],
)
def test_languages_synthesize(engine: Engine, lang: str, text: str) -> None:
    wav = engine.synthesize(text, engine.options(lang=lang, seed=0))
    assert len(wav) > 44100 * 0.3


def test_custom_voices_folder(tiny_bundle, tmp_path) -> None:
    import json
    import shutil

    folder = tmp_path / "voices"
    folder.mkdir()
    shutil.copy(tiny_bundle.voices_dir / "F2.json", folder / "narrator.json")
    (folder / "broken.json").write_text(json.dumps({"style_ttl": {"data": [1, 2]}}))
    from supertonic_core import VoiceStyleError

    with pytest.raises(VoiceStyleError) as info:
        Engine(tiny_bundle, voices_dir=folder)
    assert "broken.json" in str(info.value)
    (folder / "broken.json").unlink()
    with Engine(tiny_bundle, voices_dir=folder) as eng:
        assert "narrator" in eng.voices.names()
        np.testing.assert_array_equal(eng.style("narrator").ttl, eng.style("F2").ttl)
        assert eng.voices.describe("narrator*1+alloy*3") == "narrator*0.25+F1*0.75"


def test_options_defaults_are_validated(tiny_bundle) -> None:
    with pytest.raises(UnknownVoiceError):
        Engine(tiny_bundle, defaults=SynthesisOptions(voice="Q1"))


@pytest.mark.parametrize(
    "text",
    [
        "Hello world.",
        "A first sentence, then a clause. Then a second sentence! And a third?",
        "I have 42 apples. [pause:500ms] Then 3 more.",  # normalised, with a pause asked for
    ],
)
def test_predict_duration_is_the_length_of_a_stream_split_as_released(
    released_split: Engine, text: str
) -> None:
    engine = released_split
    opts = engine.options(voice="M1", speed=1.2)
    audio = engine.synthesize(text, opts)
    assert engine.predict_duration(text, opts) == pytest.approx(len(audio) / engine.sample_rate)


def test_predict_duration_checks_the_text(engine: Engine) -> None:
    with pytest.raises(EmptyTextError):
        engine.predict_duration("   ")


def test_only_the_vector_estimators_threads_spin(engine: Engine) -> None:
    """Spinning threads of a graph called once per chunk would fight the next graph's."""
    spinning = {
        name: session.get_session_options().get_session_config_entry(
            "session.intra_op.allow_spinning"
        )
        for name, session in engine.runtime.sessions.items()
    }
    assert spinning == {
        "duration_predictor": "0",
        "text_encoder": "0",
        "vector_estimator": "1",
        "vocoder": "0",
    }
