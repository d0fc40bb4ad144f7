"""The plugin driven the way AgentSession drives a TTS, on both backends.

``synthesize()`` for one-shot text, ``stream()`` with text pushed in LLM-sized pieces and
then ``end_input()`` (AgentSession never flushes mid-stream), ``aclose()`` for an
interruption. The bundle is the tiny synthetic one: the audio is noise, so the checks are
on its shape (rate, duration, frames, segments, timings), never on how it sounds.
"""

from __future__ import annotations

import asyncio
import re
from typing import Any, get_args
from unittest import mock

import pytest
from livekit.agents import APIConnectOptions, APIError, APIStatusError, tts
from livekit.agents.types import USERDATA_TIMED_TRANSCRIPT
from livekit.plugins import supertonic
from supertonic_core import (
    LANGUAGES,
    MODELS,
    OPENAI_VOICES,
    PRESETS,
    SAMPLE_RATES,
    Engine,
    InvalidOptionError,
    SynthesisOptions,
)
from supertonic_core.mux import MuxContext
from supertonic_core.options import OPTION_NAMES, SynthesisOverrides
from supertonic_server.testing import submitted_steps, wait_for

from .conftest import NO_RETRY, Backend, capture

TEXT = "Hello there, this is the first sentence. And here comes the second one."
#: Long enough that synthesizing all of it at 32 steps outlasts any test.
LONG = " ".join(f"Sentence number {i} keeps the synthesizer busy for a while." for i in range(40))


def pieces(text: str) -> list[str]:
    """The text as an LLM streams it: words with their spaces, a few at a time."""
    words = re.findall(r"\S+\s*", text)
    return ["".join(words[i : i + 2]) for i in range(0, len(words), 2)]


def transcripts(events: list[tts.SynthesizedAudio]) -> list:
    return [t for ev in events for t in ev.frame.userdata.get(USERDATA_TIMED_TRANSCRIPT, [])]


def check_audio(events: list[tts.SynthesizedAudio], rate: int, text: str) -> float:
    """Common checks; returns the audio duration in seconds."""
    assert events, "no audio"
    assert {ev.frame.sample_rate for ev in events} == {rate}
    assert {ev.frame.num_channels for ev in events} == {1}
    assert len({ev.request_id for ev in events}) == 1
    assert [ev.is_final for ev in events] == [False] * (len(events) - 1) + [True]
    duration = sum(ev.frame.duration for ev in events)
    words = transcripts(events)
    assert "".join(words).split() == text.split()  # every word, in order, once
    starts = [w.start_time for w in words]
    assert starts == sorted(starts)
    assert all(w.end_time >= w.start_time for w in words)
    # the words span the audio (the emitter may add a 10 ms marker after the last frame)
    assert abs(words[-1].end_time - duration) < 0.03
    return duration


async def test_synthesize_one_text(backend: Backend) -> None:
    tts_ = backend.tts()
    metrics = capture(tts_, "metrics_collected")
    async with tts_.synthesize(TEXT) as stream:
        events = [ev async for ev in stream]
    duration = check_audio(events, 44100, TEXT)
    assert duration > 1.0
    assert {ev.segment_id for ev in events} == {""}
    assert tts_.sample_rate == 44100 and tts_.capabilities.streaming
    assert tts_.capabilities.aligned_transcript
    (m,) = metrics()
    assert not m.streamed and m.characters_count == len(TEXT)
    assert abs(m.audio_duration - duration) < 1e-6


async def test_stream_of_pushed_text(backend: Backend) -> None:
    tts_ = backend.tts()
    metrics = capture(tts_, "metrics_collected")
    async with tts_.stream() as stream:
        for piece in pieces(TEXT):
            stream.push_text(piece)
        stream.end_input()
        events = [ev async for ev in stream]
    check_audio(events, 44100, TEXT)
    segments = {ev.segment_id for ev in events}
    assert len(segments) == 1 and "" not in segments
    (m,) = metrics()
    assert m.streamed and m.characters_count == len(TEXT)
    assert m.ttfb > 0


async def test_first_audio_comes_before_the_text_ends(backend: Backend) -> None:
    """Auto-release: a finished sentence is spoken while the LLM is still writing."""
    tts_ = backend.tts()
    async with tts_.stream() as stream:
        stream.push_text("The first sentence is complete. And the second one")
        first = await asyncio.wait_for(anext(stream), 20)
        assert first.frame.duration > 0
        stream.push_text(" ends here.")
        stream.end_input()
        rest = [ev async for ev in stream]
    check_audio(
        [first, *rest], 44100, "The first sentence is complete. And the second one ends here."
    )


async def test_a_chosen_sample_rate(backend: Backend) -> None:
    native, chosen = backend.tts(), backend.tts(sample_rate=16000)
    a = [ev async for ev in native.synthesize("Same text, two rates.")]
    b = [ev async for ev in chosen.synthesize("Same text, two rates.")]
    check_audio(b, 16000, "Same text, two rates.")
    assert chosen.sample_rate == 16000
    duration = sum(ev.frame.duration for ev in a)
    assert sum(ev.frame.duration for ev in b) == pytest.approx(duration, abs=0.02)


async def test_update_options_applies_to_new_streams_only(backend: Backend) -> None:
    tts_ = backend.tts(voice="F1", steps=4)
    running = tts_.stream()
    tts_.update_options(voice="M2", language="en", speed=1.6, steps=2)
    assert running._opts.voice == "F1" and running._opts.steps == 4
    await running.aclose()
    fast = [ev async for ev in tts_.synthesize(TEXT)]
    tts_.update_options(speed=0.8)
    slow = [ev async for ev in tts_.synthesize(TEXT)]
    # the speed reached the model: the same text at 1.6x is clearly shorter than at 0.8x
    assert sum(ev.frame.duration for ev in fast) < 0.8 * sum(ev.frame.duration for ev in slow)
    with pytest.raises(ValueError, match="speed"):
        tts_.update_options(speed=3.0)
    with pytest.raises(ValueError, match="steps"):
        tts_.update_options(steps=0)


async def test_first_chunk_steps_reach_the_session(backend: Backend) -> None:
    tts_ = backend.tts(steps=6, first_chunk_steps=2)
    with submitted_steps(backend.engine) as steps:
        await tts_.synthesize(TEXT).collect()
    assert len(steps) >= 2 and steps[0] == 2 and set(steps[1:]) == {6}
    running = tts_.stream()
    tts_.update_options(first_chunk_steps=3)
    assert running._opts.first_chunk_steps == 2
    await running.aclose()
    with submitted_steps(backend.engine) as steps:
        async with tts_.stream() as stream:
            for piece in pieces(TEXT):
                stream.push_text(piece)
            stream.end_input()
            [ev async for ev in stream]
    assert steps[0] == 3 and set(steps[1:]) == {6}
    tts_.update_options(first_chunk_steps=None)  # back to the session's default: 4
    with submitted_steps(backend.engine) as steps:
        await tts_.synthesize(TEXT).collect()
    assert steps[0] == 4 and set(steps[1:]) == {6}
    with pytest.raises(ValueError, match="first_chunk_steps"):
        tts_.update_options(first_chunk_steps=0)
    with pytest.raises(ValueError, match="first_chunk_steps"):
        backend.tts(first_chunk_steps=33)


@pytest.mark.parametrize(
    ("option", "value", "listed"), [("voice", "nobody", "F1"), ("language", "xx", "ko")]
)
async def test_invalid_voice_or_language_is_a_non_retryable_400(
    backend: Backend, option: str, value: str, listed: str
) -> None:
    tts_ = backend.tts()
    tts_.update_options(**{option: value})
    errors = capture(tts_, "error")
    with pytest.raises(APIStatusError) as info:
        await tts_.synthesize(TEXT, conn_options=APIConnectOptions(max_retry=3)).collect()
    assert info.value.status_code == 400 and not info.value.retryable
    assert value in info.value.message and listed in info.value.message  # names the valid ones
    assert [e.recoverable for e in errors()] == [False]  # no retry was attempted


async def test_unreadable_characters_are_a_400_naming_them(backend: Backend) -> None:
    tts_ = backend.tts()
    async with tts_.stream(conn_options=APIConnectOptions(max_retry=3)) as stream:
        stream.push_text("The sum \u2211 cannot be read. ")
        stream.end_input()
        with pytest.raises(APIStatusError) as info:
            async for _ in stream:
                pass
    assert info.value.status_code == 400 and "\u2211" in info.value.message


async def test_interruption_stops_the_engine(backend: Backend) -> None:
    tts_ = backend.tts(steps=32)
    calls = backend.engine.scheduler.calls
    stream = tts_.stream()
    stream.push_text(LONG)
    stream.end_input()
    first = await asyncio.wait_for(anext(stream), 20)
    assert first.frame.duration > 0
    await stream.aclose()  # what AgentSession does when the user barges in
    # cancelled at the next denoising step: nothing stays queued or running
    await asyncio.to_thread(wait_for, backend.idle, timeout=10, what="the scheduler to go idle")
    # and it stopped early: all of LONG takes about 1300 engine calls at 32 steps
    assert backend.engine.scheduler.calls - calls < 400


async def test_a_failing_engine_is_retried(
    backend: Backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    original = backend.engine.runtime.run
    failures = iter([True])

    def flaky(graph: str, feeds: dict) -> object:
        if next(failures, False):
            raise RuntimeError("onnxruntime: out of memory")
        return original(graph, feeds)

    monkeypatch.setattr(backend.engine.runtime, "run", flaky)
    tts_ = backend.tts()
    errors = capture(tts_, "error")
    async with tts_.stream(conn_options=APIConnectOptions(max_retry=2, timeout=20)) as stream:
        for piece in pieces(TEXT):
            stream.push_text(piece)
        stream.end_input()
        events = [ev async for ev in stream]
    check_audio(events, 44100, TEXT)  # the retry replayed the whole input
    (error,) = errors()
    assert error.recoverable and isinstance(error.error, APIStatusError)
    assert error.error.status_code == 500 and error.error.retryable


async def test_a_failing_engine_without_retries_raises(
    backend: Backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(graph: str, feeds: dict) -> object:
        raise RuntimeError("onnxruntime: device lost")

    monkeypatch.setattr(backend.engine.runtime, "run", broken)
    tts_ = backend.tts()
    errors = capture(tts_, "error")
    with pytest.raises(APIStatusError) as info:
        await tts_.synthesize(TEXT, conn_options=NO_RETRY).collect()
    assert info.value.status_code == 500 and info.value.retryable
    assert [e.recoverable for e in errors()] == [False]


async def test_empty_input_gives_no_audio_and_no_error(backend: Backend) -> None:
    tts_ = backend.tts()
    errors = capture(tts_, "error")
    async with tts_.stream() as stream:
        stream.end_input()
        assert [ev async for ev in stream] == []
    assert [ev async for ev in tts_.synthesize("")] == []
    assert errors() == []


async def test_unspeakable_text_keeps_its_transcript(backend: Backend) -> None:
    tts_ = backend.tts()
    events = [ev async for ev in tts_.synthesize("Well... ok.")]
    assert "".join(transcripts(events)).split() == ["Well...", "ok."]


async def test_streams_run_side_by_side(backend: Backend) -> None:
    tts_ = backend.tts()

    async def speak(text: str) -> list[tts.SynthesizedAudio]:
        async with tts_.stream() as stream:
            for piece in pieces(text):
                stream.push_text(piece)
            stream.end_input()
            return [ev async for ev in stream]

    texts = ["One stream speaks this.", "Another stream says that, at the same time."]
    results = await asyncio.gather(*(speak(t) for t in texts))
    for text, events in zip(texts, results, strict=True):
        check_audio(events, 44100, text)
    assert len({ev.segment_id for events in results for ev in events}) == 2


async def test_aclose_stops_running_streams(backend: Backend) -> None:
    tts_ = backend.tts(steps=32)
    calls = backend.engine.scheduler.calls
    stream = tts_.stream()
    stream.push_text(LONG)
    stream.end_input()
    await asyncio.wait_for(anext(stream), 20)
    await tts_.aclose()
    await asyncio.to_thread(wait_for, backend.idle, timeout=10, what="the scheduler to go idle")
    assert backend.engine.scheduler.calls - calls < 400


def test_plugin_is_registered() -> None:
    from livekit.agents import Plugin

    (plugin,) = [p for p in Plugin.registered_plugins if p.package == "livekit.plugins.supertonic"]
    assert plugin.title == "livekit.plugins.supertonic"
    assert plugin.version == supertonic.__version__


async def test_a_cancel_the_stream_did_not_ask_for_is_an_error(engine: Engine) -> None:
    """An utterance the session cancelled on its own is cut short, not finished: the
    stream must fail rather than end as if all its text had been spoken."""
    tts_ = supertonic.TTS(engine=engine, steps=32)
    stream = tts_.synthesize(LONG, conn_options=NO_RETRY)
    await asyncio.wait_for(anext(stream), 20)
    mux = tts_._backend._link.current  # white box: the in-process session under the TTS
    (context_id,) = mux._contexts
    await mux.conn.cancel(context_id)
    with pytest.raises(APIError, match="cancelled"):
        async for _ in stream:
            pass
    await tts_.aclose()


#: A value of every option of the request model, none of them its default.
OPTIONS = {"voice": "M2", "lang": "ko", "speed": 1.5, "steps": 5, "first_chunk_steps": 2,
           "seed": 7, "normalize": False, "emoji": "name", "detect_lang": True, "lexicons": (),
           "pronunciations": {"SQL": "sequel"}}  # fmt: skip


def arguments(options: dict[str, Any]) -> dict[str, Any]:
    """The plugin's arguments for the model's options (its ``language`` is ``lang``)."""
    return {("language" if k == "lang" else k): v for k, v in options.items()}


async def test_every_option_of_the_model_reaches_the_session(
    backend: Backend,
) -> None:
    """Through the constructor and through ``update_options``: an option the model gains
    and the plugin lacks fails here."""
    assert set(OPTIONS) == set(OPTION_NAMES)
    configure = MuxContext.configure
    with mock.patch.object(MuxContext, "configure", autospec=True, side_effect=configure) as spy:
        given = backend.tts(**arguments(OPTIONS))
        await given.synthesize("Hi.", conn_options=NO_RETRY).collect()
        updated = backend.tts()
        await updated.synthesize("Hi.", conn_options=NO_RETRY).collect()
        updated.update_options(**arguments(OPTIONS))
        await updated.synthesize("Hi.", conn_options=NO_RETRY).collect()
        updated.update_options(**arguments(dict.fromkeys(OPTIONS)))  # None: the session's
        await updated.synthesize("Hi.", conn_options=NO_RETRY).collect()
    sent = [{k: v for k, v in c.kwargs.items() if k in OPTION_NAMES} for c in spy.call_args_list]
    assert sent == [OPTIONS, {}, OPTIONS, {}]


@pytest.mark.parametrize(
    "bad", [{"speed": 3.0}, {"steps": 0}, {"seed": -1}, {"emoji": "shout"}, {"voice": 3}]
)
def test_a_bad_option_raises_the_models_error(engine: Engine, bad: dict[str, Any]) -> None:
    with pytest.raises(InvalidOptionError) as model:
        SynthesisOptions.checked(**bad)
    with pytest.raises(InvalidOptionError, match=re.escape(str(model.value))):
        supertonic.TTS(engine=engine, **bad)
    tts_ = supertonic.TTS(engine=engine, speed=1.2)
    with pytest.raises(InvalidOptionError, match=re.escape(str(model.value))):
        tts_.update_options(**{"normalize": False, **bad})  # all or nothing
    assert tts_._opts == SynthesisOverrides(speed=1.2)  # nothing changed


def test_the_type_aliases_list_what_the_core_accepts() -> None:
    assert get_args(supertonic.TTSLanguages) == tuple(LANGUAGES)
    assert set(get_args(supertonic.TTSVoices)) == {*PRESETS, *OPENAI_VOICES}
    assert get_args(supertonic.TTSSampleRates) == SAMPLE_RATES
    assert set(get_args(supertonic.TTSModels)) == set(MODELS)
