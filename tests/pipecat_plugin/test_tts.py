"""The Supertonic Pipecat services in real pipelines, driven by Pipecat's own ``run_test``.

Every behavioural test runs twice: in-process and against the real server (``variant``).
The bundle is synthetic (random weights), so audio is checked by rate, length, order and
determinism, never by how it sounds.
"""

from __future__ import annotations

import asyncio
import itertools
import re
import socket
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from unittest import mock

import httpx
import pytest
from pipecat.frames.frames import (
    EndWorkerFrame,
    ErrorFrame,
    Frame,
    InterruptionFrame,
    LLMFullResponseEndFrame,
    LLMFullResponseStartFrame,
    LLMTextFrame,
    MetricsFrame,
    TTSAudioRawFrame,
    TTSSpeakFrame,
    TTSStartedFrame,
    TTSStoppedFrame,
    TTSTextFrame,
    TTSUpdateSettingsFrame,
)
from pipecat.metrics.metrics import ProcessingMetricsData, TTFBMetricsData, TTSUsageMetricsData
from pipecat.observers.base_observer import BaseObserver, FramePushed
from pipecat.pipeline.pipeline import Pipeline
from pipecat.pipeline.worker import PipelineParams
from pipecat.processors.aggregators.llm_context import LLMContext
from pipecat.processors.aggregators.llm_response_universal import LLMAssistantAggregator
from pipecat.services.openai.tts import OpenAITTSService
from pipecat.services.tts_service import TextAggregationMode
from pipecat.tests.utils import run_test
from pipecat.transcriptions.language import Language
from pipecat_supertonic import (
    SupertonicServerTTSService,
    SupertonicTTSService,
    language_to_supertonic_language,
)
from supertonic_core import LANGUAGES, Engine, InvalidOptionError, SynthesisOptions
from supertonic_core.mux import SpeechMux
from supertonic_core.options import OPTION_NAMES
from supertonic_server.testing import LiveServer, submitted_steps

from .conftest import Variant, eventually

SENTENCE = "Hello there, this is a short test of the speech service."
#: Long enough that speaking all of it at 32 steps takes far longer than any test.
LONG_SENTENCE = "Sentence number {} keeps the synthesizer busy for a while."
LONG = " ".join(LONG_SENTENCE.format(i) for i in range(40))
TOKENS = ["Hi", " there", ". How", " are you", " doing", " today? I", " am fine", ", thanks."]
SENTENCES = ["Hi there.", "How are you doing today?", "I am fine, thanks."]


def audio_of(frames: Sequence[Frame], context_id: str | None = None) -> list[TTSAudioRawFrame]:
    return [
        f
        for f in frames
        if isinstance(f, TTSAudioRawFrame) and (context_id is None or f.context_id == context_id)
    ]


def seconds(frames: Sequence[TTSAudioRawFrame]) -> float:
    return sum(len(f.audio) / 2 / f.sample_rate for f in frames)


def lifecycle(frames: Sequence[Frame]) -> list[type]:
    """The TTS frame types in order, consecutive audio frames collapsed into one."""
    kinds: list[type] = []
    for f in frames:
        kind = type(f)
        if kind not in (TTSStartedFrame, TTSAudioRawFrame, TTSStoppedFrame, InterruptionFrame):
            continue
        if not (kinds and kind is TTSAudioRawFrame and kinds[-1] is TTSAudioRawFrame):
            kinds.append(kind)
    return kinds


def reference_seconds(engine: Engine, text: str, **options: Any) -> float:
    """How long the engine makes ``text`` (durations do not depend on the noise seed)."""
    return len(engine.synthesize(text, engine.options(**options))) / engine.sample_rate


def errors(frames: Sequence[Frame]) -> list[str]:
    return [f.error for f in frames if isinstance(f, ErrorFrame)]


class WhenFirst(BaseObserver):
    """Runs ``action`` once, when ``source`` first pushes a frame of type ``kind``."""

    def __init__(self, source: Any, kind: type, action: Any) -> None:
        super().__init__()
        self.source, self.kind, self.action = source, kind, action
        self.fired = False
        self.failure: BaseException | None = None

    async def on_push_frame(self, data: FramePushed) -> None:
        if self.fired or data.source is not self.source or not isinstance(data.frame, self.kind):
            return
        self.fired = True
        try:
            await self.action()
        except BaseException as exc:  # reported by the test, after the pipeline ended
            self.failure = exc
            await self.source.queue_frame(EndWorkerFrame())


async def run(tts: Any, frames: list[Frame], *, rate: int = 24000, **kwargs: Any) -> Any:
    params = kwargs.pop("pipeline_params", None) or PipelineParams(audio_out_sample_rate=rate)
    return await asyncio.wait_for(
        run_test(tts, frames_to_send=frames, pipeline_params=params, **kwargs), 60
    )


# ----------------------------------------------------------------------------- speaking


@pytest.mark.parametrize("rate", [16000, 24000, 32000, 44100])
async def test_a_sentence_gives_started_audio_stopped_at_the_pipeline_rate(
    variant: Variant, rate: int
) -> None:
    # 32 kHz is not a session rate: that audio is resampled from 44.1 kHz in the plugin.
    down, up = await run(variant.make(), [TTSSpeakFrame(SENTENCE)], rate=rate)
    assert lifecycle(down) == [TTSStartedFrame, TTSAudioRawFrame, TTSStoppedFrame]
    started = next(f for f in down if isinstance(f, TTSStartedFrame))
    audio = audio_of(down)
    assert {(f.sample_rate, f.num_channels, f.context_id) for f in audio} == {
        (rate, 1, started.context_id)
    }
    assert all(len(f.audio) % 2 == 0 for f in audio)
    assert seconds(audio) == pytest.approx(reference_seconds(variant.engine, SENTENCE), abs=0.02)
    assert not errors(up)


async def test_an_llm_token_stream_becomes_one_turn_of_audio(variant: Variant) -> None:
    frames = [LLMFullResponseStartFrame(), *map(LLMTextFrame, TOKENS), LLMFullResponseEndFrame()]
    down, up = await run(variant.make(), frames, rate=16000)
    assert lifecycle(down) == [TTSStartedFrame, TTSAudioRawFrame, TTSStoppedFrame]
    assert isinstance(down[-1], LLMFullResponseEndFrame)
    assert {f.sample_rate for f in audio_of(down)} == {16000}
    # The turn is one utterance of the session: chunked, paused and timed as the whole
    # text would be.
    expected = reference_seconds(variant.engine, " ".join(SENTENCES))
    assert seconds(audio_of(down)) == pytest.approx(expected, abs=0.03)
    assert not errors(up)


async def test_word_timestamps_arrive_in_order(variant: Variant) -> None:
    frames = [LLMFullResponseStartFrame(), *map(LLMTextFrame, TOKENS), LLMFullResponseEndFrame()]
    down, _ = await run(variant.make(), frames)
    words = [f for f in down if isinstance(f, TTSTextFrame)]
    assert [w.text for w in words] == " ".join(SENTENCES).split()
    pts = [w.pts for w in words]
    assert all(isinstance(p, int) for p in pts)
    assert pts == sorted(pts) and len(set(pts)) == len(pts)
    # The running offset spans the whole turn: the last word starts inside its audio.
    span_s = (pts[-1] - pts[0]) / 1e9
    total = seconds(audio_of(down))
    assert total * 0.5 < span_s < total


async def test_punctuation_only_text_is_a_short_pause_not_a_failed_context(
    variant: Variant,
) -> None:
    # More than max_consecutive_zero_audio_contexts (3): silent contexts would cost the
    # service its usability.
    tts = variant.make()
    down, up = await run(tts, [TTSSpeakFrame(t) for t in ("...", "!", "—", "?!")])
    assert lifecycle(down) == [TTSStartedFrame, TTSAudioRawFrame, TTSStoppedFrame] * 4
    assert all(0.1 < seconds(audio_of(down, f.context_id)) < 0.5 for f in audio_of(down))
    assert not errors(up)
    assert tts.is_usable


async def test_unspeakable_characters_become_an_error_frame_and_the_service_goes_on(
    variant: Variant,
) -> None:
    tts = variant.make()
    down, up = await run(tts, [TTSSpeakFrame("Clef 𝄞 here."), TTSSpeakFrame("Fine.")])
    assert any("unsupported characters" in e and "U+1D11E" in e for e in errors(up)), errors(up)
    started = [f for f in down if isinstance(f, TTSStartedFrame)]
    assert audio_of(down, started[-1].context_id)


async def test_a_text_longer_than_one_protocol_message_is_spoken_whole(
    variant: Variant,
) -> None:
    # Over the server's 64 KiB message limit, yet cheap to speak: whitespace collapses.
    text = "First words." + " " * 70_000 + "Last words."
    down, up = await run(variant.make(), [TTSSpeakFrame(text)])
    assert [f.text for f in down if isinstance(f, TTSTextFrame)] == text.split()
    assert not errors(up)


# ----------------------------------------------------------------------------- interruptions


async def test_an_interruption_stops_the_audio_and_the_engine(variant: Variant) -> None:
    tts = variant.make(settings=SupertonicTTSService.Settings(steps=32))
    busy_engine: list[bool] = []
    stopped_engine: list[bool] = []

    async def interrupt() -> None:
        busy_engine.append(not variant.idle())  # the long text is still being synthesized
        await tts.queue_frame(InterruptionFrame())
        # Nothing of the long text may still be synthesizing or queued in the engine.
        stopped_engine.append(await eventually(variant.idle, what="the engine to go idle"))
        await tts.queue_frame(TTSSpeakFrame("Back again."))
        await tts.queue_frame(EndWorkerFrame())

    observer = WhenFirst(tts, TTSAudioRawFrame, interrupt)
    down, up = await run(tts, [TTSSpeakFrame(LONG)], observers=[observer], send_end_frame=False)
    assert observer.failure is None, observer.failure
    assert busy_engine == [True] and stopped_engine == [True]
    first, second = (f.context_id for f in down if isinstance(f, TTSStartedFrame))
    cut = next(i for i, f in enumerate(down) if isinstance(f, InterruptionFrame))
    # The long text's audio stops at the interruption; its TTSStoppedFrame follows it.
    assert not [f for f in down[cut:] if isinstance(f, TTSAudioRawFrame) and f.context_id == first]
    stops = [i for i, f in enumerate(down) if isinstance(f, TTSStoppedFrame)]
    assert [down[i].context_id for i in stops] == [first, second] and stops[0] > cut
    whole = 40 * reference_seconds(variant.engine, LONG_SENTENCE.format(0))
    assert seconds(audio_of(down, first)) < 0.2 * whole
    # What reaches the context is exactly the words spoken before the interruption.
    spoken = [f.text for f in down[:cut] if isinstance(f, TTSTextFrame)]
    assert spoken == LONG.split()[: len(spoken)] and len(spoken) < len(LONG.split())
    # And the service speaks again afterwards.
    assert lifecycle(down[cut:]) == [
        InterruptionFrame,
        TTSStoppedFrame,
        TTSStartedFrame,
        TTSAudioRawFrame,
        TTSStoppedFrame,
    ]
    assert audio_of(down, second)
    assert not errors(up)


async def test_after_an_interruption_the_context_holds_only_the_words_spoken(
    variant: Variant,
) -> None:
    tts = variant.make(settings=SupertonicTTSService.Settings(steps=32))
    context = LLMContext()
    assistant = LLMAssistantAggregator(context)

    async def interrupt() -> None:
        await tts.queue_frame(InterruptionFrame())
        await eventually(variant.idle, what="the engine to go idle")
        await tts.queue_frame(EndWorkerFrame())

    observer = WhenFirst(tts, TTSAudioRawFrame, interrupt)
    tokens = re.findall(r"\S+\s*", LONG)
    frames = [LLMFullResponseStartFrame(), *map(LLMTextFrame, tokens), LLMFullResponseEndFrame()]
    await run(Pipeline([tts, assistant]), frames, observers=[observer], send_end_frame=False)
    assert observer.failure is None, observer.failure
    said = [m["content"] for m in context.get_messages() if m["role"] == "assistant"]
    assert len(said) == 1
    words = said[0].split()
    assert words and words == LONG.split()[: len(words)] and len(words) < len(LONG.split())


# ----------------------------------------------------------------------------- settings


async def test_settings_updates_take_effect_from_the_next_sentence(variant: Variant) -> None:
    Settings = SupertonicTTSService.Settings
    tts = variant.make(settings=Settings(seed=7))
    text = "Same words every time."
    down, up = await run(
        tts,
        [
            TTSSpeakFrame(text),
            TTSUpdateSettingsFrame(delta=Settings(voice="M1")),
            TTSSpeakFrame(text),
            TTSUpdateSettingsFrame(delta=Settings(speed=2.0)),
            TTSSpeakFrame(text),
            TTSUpdateSettingsFrame(delta=Settings(voice="F1", speed=1.05)),
            TTSSpeakFrame(text),
        ],
    )
    contexts = [f.context_id for f in down if isinstance(f, TTSStartedFrame)]
    f1, m1, fast, again = (b"".join(f.audio for f in audio_of(down, c)) for c in contexts)
    assert m1 != f1  # another voice
    assert len(fast) < 0.7 * len(m1)  # faster speech
    assert again == f1  # same settings and seed: the same audio
    assert (tts.settings.voice, tts.settings.speed, tts.settings.seed) == ("F1", 1.05, 7)
    assert not errors(up)


async def test_fast_start_reaches_the_turns_first_sentence(variant: Variant) -> None:
    """``first_chunk_steps`` goes to the session; the turn's later chunks, spoken while
    the first one plays, get all the steps."""
    Settings = SupertonicTTSService.Settings
    tts = variant.make(settings=Settings(steps=6, first_chunk_steps=2))
    assert tts.settings.first_chunk_steps == 2
    frames = [LLMFullResponseStartFrame(), *map(LLMTextFrame, TOKENS), LLMFullResponseEndFrame()]
    with submitted_steps(variant.engine) as steps:
        down, up = await run(tts, frames)
    assert not errors(up) and audio_of(down)
    assert len(steps) >= 2 and steps[0] == 2 and set(steps[1:]) == {6}

    tts = variant.make(settings=Settings(steps=6))
    with submitted_steps(variant.engine) as steps:
        _, up = await run(
            tts,
            [
                TTSSpeakFrame("Before the update."),
                TTSUpdateSettingsFrame(delta=Settings(first_chunk_steps=3)),
                TTSSpeakFrame("After it."),
            ],
        )
    assert not errors(up)
    assert steps[0] == 4 and steps[-1] == 3 and tts.settings.first_chunk_steps == 3


async def test_a_bad_first_chunk_steps_is_refused(variant: Variant) -> None:
    Settings = SupertonicTTSService.Settings
    tts = variant.make()
    down, up = await run(
        tts,
        [
            TTSUpdateSettingsFrame(delta=Settings(first_chunk_steps=0)),
            TTSSpeakFrame("Still speaking."),
        ],
    )
    assert any("first_chunk_steps must be between 1 and 32" in e for e in errors(up)), errors(up)
    assert tts.settings.first_chunk_steps == 4  # the default, kept
    assert audio_of(down)


async def test_a_rejected_settings_update_is_reported_and_rolled_back(variant: Variant) -> None:
    Settings = SupertonicTTSService.Settings
    tts = variant.make()
    down, up = await run(
        tts,
        [
            TTSUpdateSettingsFrame(delta=Settings(voice="nope", speed=1.5)),
            TTSSpeakFrame("Still speaking."),
        ],
    )
    assert any("unknown voice 'nope'" in e and "F1" in e for e in errors(up)), errors(up)
    assert (tts.settings.voice, tts.settings.speed) == ("F1", 1.05)
    assert audio_of(down)


async def test_a_language_the_model_does_not_speak_is_refused_at_runtime(
    variant: Variant,
) -> None:
    tts = variant.make()
    _, up = await run(
        tts, [TTSUpdateSettingsFrame(delta=SupertonicTTSService.Settings(language=Language.ZH))]
    )
    assert any("zh" in e and "rejected" in e for e in errors(up)), errors(up)
    assert tts.settings.language == "en"


async def test_a_language_update_is_mapped_to_the_model_code(variant: Variant) -> None:
    Settings = SupertonicTTSService.Settings
    tts = variant.make()
    down, up = await run(
        tts,
        [
            TTSUpdateSettingsFrame(delta=Settings(language=Language.DE_AT)),
            TTSSpeakFrame("Guten Tag."),
        ],
    )
    assert tts.settings.language == "de"
    assert audio_of(down)
    assert not errors(up)


async def test_metrics_ttfb_processing_and_usage(variant: Variant) -> None:
    params = PipelineParams(enable_metrics=True, enable_usage_metrics=True)
    down, _ = await run(variant.make(), [TTSSpeakFrame(SENTENCE)], pipeline_params=params)
    data = [d for f in down if isinstance(f, MetricsFrame) for d in f.data]
    assert any(isinstance(d, TTFBMetricsData) and d.value > 0 for d in data)
    assert any(isinstance(d, ProcessingMetricsData) for d in data)
    usage = [d.value for d in data if isinstance(d, TTSUsageMetricsData)]
    assert usage == [len(SENTENCE)]


# ----------------------------------------------------------------------------- languages


def test_every_model_language_maps_from_pipecat() -> None:
    for code in LANGUAGES:
        if code != "na":
            assert language_to_supertonic_language(Language(code)) == code
    assert language_to_supertonic_language(Language.EN_US) == "en"
    assert language_to_supertonic_language(Language.PT_BR) == "pt"
    assert language_to_supertonic_language(Language.ZH) is None
    assert language_to_supertonic_language(Language.NB_NO) is None


def test_an_unspoken_language_is_refused_at_construction(engine: Engine) -> None:
    with pytest.raises(ValueError, match=r"does not speak zh.*en, ko, ja"):
        SupertonicTTSService(
            engine=engine, settings=SupertonicTTSService.Settings(language=Language.ZH)
        )
    tts = SupertonicTTSService(engine=engine, settings=SupertonicTTSService.Settings(language="na"))
    assert tts.settings.language == "na"


async def test_streamed_tokens_are_spoken_as_one_turn(variant: Variant) -> None:
    tts = variant.make(text_aggregation_mode=TextAggregationMode.TOKEN)
    frames = [LLMFullResponseStartFrame(), *map(LLMTextFrame, TOKENS), LLMFullResponseEndFrame()]
    down, up = await run(tts, frames)
    assert lifecycle(down) == [TTSStartedFrame, TTSAudioRawFrame, TTSStoppedFrame]
    assert [f.text for f in down if isinstance(f, TTSTextFrame)] == " ".join(SENTENCES).split()
    assert not errors(up)


async def test_a_model_that_cannot_load_is_an_error_frame(tmp_path: Path) -> None:
    tts = SupertonicTTSService(model_dir=tmp_path / "missing", stop_frame_timeout_s=0.3)
    down, up = await run(tts, [TTSSpeakFrame("Hello.")])
    assert any("could not load the Supertonic model" in e for e in errors(up)), errors(up)
    assert not audio_of(down)


async def test_the_in_process_engine_gets_a_phrase_cache(tiny_bundle_dir: Path) -> None:
    tts = SupertonicTTSService(model_dir=tiny_bundle_dir, warmup=False, phrase_cache=8)
    loaded: list[Engine] = []

    async def again() -> None:  # once the first reply is synthesized, not alongside it
        loaded.append(tts.engine)
        await tts.queue_frame(TTSSpeakFrame("Sure."))
        await tts.queue_frame(EndWorkerFrame())

    observer = WhenFirst(tts, TTSStoppedFrame, again)
    down, up = await run(tts, [TTSSpeakFrame("Sure.")], observers=[observer], send_end_frame=False)
    assert observer.failure is None and not errors(up) and audio_of(down)
    stats = loaded[0].phrase_cache.stats()
    assert stats["capacity"] == 8 and stats["hits"] >= 1


def test_a_phrase_cache_for_an_engine_passed_in_is_refused(engine: Engine) -> None:
    with pytest.raises(ValueError, match="phrase_cache"):
        SupertonicTTSService(engine=engine, phrase_cache=8)


# ----------------------------------------------------------------------------- the server


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def test_an_unreachable_server_is_an_error_frame_after_retries() -> None:
    url = f"ws://127.0.0.1:{_closed_port()}"
    tts = SupertonicServerTTSService(
        url=url, reconnect_attempts=2, reconnect_backoff_s=0.01, stop_frame_timeout_s=0.3
    )
    down, up = await run(tts, [TTSSpeakFrame("Hello.")])
    failures = [e for e in errors(up) if "gave up after 2 attempts" in e]
    assert failures and all(f"cannot open {url}" in e for e in failures), errors(up)
    assert not audio_of(down)


async def test_a_dropped_connection_is_reopened(pipecat_server: LiveServer) -> None:
    tts = SupertonicServerTTSService(url=pipecat_server.base_url, reconnect_backoff_s=0.05)

    async def drop() -> None:
        lost = tts._link.current
        lost.conn._ws.transport.abort()  # the socket dies under the service: a network cut
        await eventually(
            lambda: tts._link.current not in (None, lost), what="the service to reconnect"
        )
        await tts.queue_frame(TTSSpeakFrame("Two."))
        await tts.queue_frame(EndWorkerFrame())

    observer = WhenFirst(tts, TTSStoppedFrame, drop)
    down, up = await run(tts, [TTSSpeakFrame("One.")], observers=[observer], send_end_frame=False)
    assert observer.failure is None, observer.failure
    assert lifecycle(down) == [TTSStartedFrame, TTSAudioRawFrame, TTSStoppedFrame] * 2
    assert not errors(up)


async def test_a_connection_dropped_mid_turn_is_resumed_without_losing_a_word(
    pipecat_server: LiveServer,
) -> None:
    """The socket dies after the turn's first audio: the service reconnects, sends only the
    text not yet spoken, and the turn goes on: every word once, no error (issue 24)."""
    tts = SupertonicServerTTSService(url=pipecat_server.base_url, reconnect_backoff_s=0.05)
    text = " ".join(f"Sentence {n} takes a while to say." for n in range(1, 13))

    async def drop() -> None:
        tts._link.current.conn._ws.transport.abort()  # a replica dies under the service

    observer = WhenFirst(tts, TTSAudioRawFrame, drop)
    down, up = await run(tts, [TTSSpeakFrame(text)], observers=[observer])
    assert observer.fired and observer.failure is None, observer.failure
    assert not errors(up), errors(up)
    assert [f.text for f in down if isinstance(f, TTSTextFrame)] == text.split()
    assert lifecycle(down) == [TTSStartedFrame, TTSAudioRawFrame, TTSStoppedFrame]


async def test_the_stock_openai_service_speaks_through_our_server(
    pipecat_server: LiveServer,
) -> None:
    tts = OpenAITTSService(
        api_key="not-needed",
        base_url=pipecat_server.base_url + "/v1",
        settings=OpenAITTSService.Settings(model="tts-1", voice="alloy"),
    )
    down, up = await run(tts, [TTSSpeakFrame(SENTENCE)], rate=24000)
    audio = audio_of(down)
    assert lifecycle(down) == [TTSStartedFrame, TTSAudioRawFrame, TTSStoppedFrame]
    assert {f.sample_rate for f in audio} == {24000}
    async with httpx.AsyncClient(base_url=pipecat_server.base_url, timeout=60) as client:
        direct = await client.post(
            "/v1/audio/speech",
            json={"model": "tts-1", "voice": "alloy", "input": SENTENCE, "response_format": "pcm"},
        )
    assert direct.status_code == 200
    assert seconds(audio) == pytest.approx(len(direct.content) / 2 / 24000, abs=0.01)
    assert seconds(audio) > 1.0
    assert not errors(up)


# ----------------------------------------------------------------------------- defects (issue 14)


def _session(tts: Any) -> Any:
    """The in-process service's speech session (white box: to provoke session states)."""
    return tts._link.current.conn


async def test_a_refused_context_ends_the_reply_instead_of_hanging(engine: Engine) -> None:
    tts = SupertonicTTSService(engine=engine)

    @tts.event_handler("on_connected")
    async def hog_every_context(service: Any) -> None:
        session = _session(service)
        for i in range(session.max_contexts):  # open, never closed: the session is full
            await session.send_text("Held open", f"hog-{i}")

    down, up = await asyncio.wait_for(run_test(tts, frames_to_send=[TTSSpeakFrame("Hello.")]), 20)
    assert any("too many open contexts" in e for e in errors(up)), errors(up)
    assert not audio_of(down)


async def test_an_error_without_a_context_does_not_reject_a_settings_update(
    engine: Engine,
) -> None:
    """Only the session's answer to a ``config`` settles it, not any error that comes first."""
    Settings = SupertonicTTSService.Settings
    tts = SupertonicTTSService(engine=engine)

    @tts.event_handler("on_connected")
    async def stray_error_before_each_config(service: Any) -> None:
        session = _session(service)
        handle = session.handle

        async def handle_with_a_stray_error(raw: Any) -> None:
            if isinstance(raw, dict) and raw.get("type") == "config":
                await handle("{")  # malformed JSON: an error with no context, just before
            await handle(raw)

        session.handle = handle_with_a_stray_error

    down, up = await run(
        tts, [TTSUpdateSettingsFrame(delta=Settings(voice="M1")), TTSSpeakFrame("Hello.")]
    )
    assert not [e for e in errors(up) if "rejected" in e], errors(up)
    assert tts.settings.voice == "M1"
    assert audio_of(down)


async def test_a_failed_warm_up_closes_the_engine(
    tiny_bundle_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    warmed: list[Engine] = []

    def failing_warmup(self: Engine, *args: Any, **kwargs: Any) -> None:
        warmed.append(self)
        raise RuntimeError("warm-up failed")

    monkeypatch.setattr(Engine, "warmup", failing_warmup)
    tts = SupertonicTTSService(model_dir=tiny_bundle_dir)
    _, up = await run(tts, [TTSSpeakFrame("Hello.")])
    assert any("warm-up failed" in e for e in errors(up)), errors(up)
    assert len(warmed) == 1 and not warmed[0].scheduler._threads


def _replies(frames: Sequence[Frame]) -> list[tuple[list[int], float]]:
    """Per audio context, in order: its word PTS and its audio in seconds."""
    replies: dict[str, tuple[list[int], list[TTSAudioRawFrame]]] = {}
    for f in frames:
        if isinstance(f, TTSStartedFrame):
            replies[f.context_id] = ([], [])
        elif isinstance(f, TTSTextFrame) and f.context_id in replies:
            replies[f.context_id][0].append(f.pts)
        elif isinstance(f, TTSAudioRawFrame) and f.context_id in replies:
            replies[f.context_id][1].append(f)
    return [(pts, seconds(audio)) for pts, audio in replies.values()]


async def test_word_times_of_a_reply_come_after_the_previous_replys_audio(
    variant: Variant,
) -> None:
    texts = ["Hi there, F1.", "And another reply follows.", "A third one, too."]
    down, up = await run(variant.make(), [TTSSpeakFrame(t) for t in texts])
    replies = _replies(down)
    assert [len(pts) for pts, _ in replies] == [len(t.split()) for t in texts]
    for (before, audio_s), (after, _) in itertools.pairwise(replies):
        # The first word of a reply starts with its audio (the core's offsets start at 0).
        end_of_previous = before[0] + round(audio_s * 1e9)
        assert min(after) >= end_of_previous - 1_000_000, (min(after), end_of_previous)
    assert not errors(up)


async def test_an_over_long_input_is_an_error_frame_once_and_the_service_goes_on(
    short_input_server: LiveServer,
) -> None:
    """``input_too_long`` (a code the session sent that the table lacked) is reported once
    as what it is; the next sentence is spoken."""
    tts = SupertonicServerTTSService(url=short_input_server.base_url)
    too_long = "This sentence is far longer than forty characters."
    down, up = await run(tts, [TTSSpeakFrame(too_long), TTSSpeakFrame("Fine.")])
    ours = [e for e in errors(up) if "completed with no audio" not in e]  # Pipecat's own
    assert len(ours) == 1 and "input_too_long" in ours[0], errors(up)
    started = [f for f in down if isinstance(f, TTSStartedFrame)]
    assert audio_of(down, started[-1].context_id)


# ----------------------------------------------------------------------------- the request model

#: A value of every option of the request model, none of them its default.
OPTIONS = {"voice": "M2", "lang": "ko", "speed": 1.5, "steps": 5, "first_chunk_steps": 2,
           "seed": 7, "normalize": False, "emoji": "name", "detect_lang": True, "lexicons": (),
           "pronunciations": {"SQL": "sequel"}}  # fmt: skip


def settings_of(options: dict[str, Any]) -> Any:
    """The service's settings for the model's options (Pipecat's ``language`` is ``lang``)."""
    return SupertonicTTSService.Settings(
        **{("language" if k == "lang" else k): v for k, v in options.items()}
    )


async def test_every_option_of_the_model_reaches_the_session(
    variant: Variant,
) -> None:
    """The defaults are the model's; every option goes to the session from the settings
    and from an update: an option the model gains and the service lacks fails here."""
    assert set(OPTIONS) == set(OPTION_NAMES)
    configure = SpeechMux.configure
    with mock.patch.object(SpeechMux, "configure", autospec=True, side_effect=configure) as spy:
        _, up = await run(variant.make(settings=settings_of(OPTIONS)), [TTSSpeakFrame("Hi.")])
        tts = variant.make()
        _, up2 = await run(tts, [TTSUpdateSettingsFrame(delta=settings_of(OPTIONS))])
    sent = [{k: v for k, v in c.kwargs.items() if k in OPTION_NAMES} for c in spy.call_args_list]
    assert sent == [OPTIONS, SynthesisOptions().model_dump(exclude_none=True), OPTIONS]
    assert not errors(up) and not errors(up2)
    assert tts.settings.language == "ko" and tts.settings.emoji == "name"


@pytest.mark.parametrize(
    "bad", [{"speed": 3.0}, {"steps": 0}, {"seed": -1}, {"emoji": "shout"}, {"voice": 3}]
)
async def test_a_bad_option_raises_the_models_error(engine: Engine, bad: dict[str, Any]) -> None:
    with pytest.raises(InvalidOptionError) as model:
        SynthesisOptions.checked(**bad)
    with pytest.raises(InvalidOptionError, match=re.escape(str(model.value))):
        SupertonicTTSService(engine=engine, settings=settings_of(bad))
    tts = SupertonicTTSService(engine=engine)
    _, up = await run(tts, [TTSUpdateSettingsFrame(delta=settings_of({"normalize": False, **bad}))])
    assert [e for e in errors(up) if str(model.value) in e and "rejected" in e], errors(up)
    assert tts.settings.normalize is True  # all or nothing
