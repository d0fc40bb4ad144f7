"""A stream's chunks: sized by the listener's lead, fast start, the phrase cache. No timing:
the lead is set through the scheduler's budget, and costs are recorded by hand."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest
from supertonic_core import Engine, InvalidOptionError
from supertonic_core import stream as stream_module
from supertonic_core.chunking import split_text
from supertonic_core.costs import CostModel
from supertonic_core.stream import SynthesisStream
from supertonic_core.synthesis import Stage

REPLY = (
    "Sure. I found three flights that match: one leaves at seven in the morning, one at "
    "noon, and the last one late in the evening. The cheapest is the first. It has seats by "
    "the window. Shall I book it?"
)


@pytest.fixture
def fresh(tiny_bundle) -> Iterator[Engine]:
    """An engine of its own: its cache and its scheduler's costs start empty."""
    with Engine(tiny_bundle, phrase_cache=16) as eng:
        eng.warmup()
        yield eng


def _texts(engine: Engine, text: str, **options) -> list[str]:
    return [c.text for c in engine.iter_chunks(text, engine.options(**options))]


def _budget(engine: Engine, seconds: float, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every chunk after the first gets ``seconds`` of speech (a lead that pays for that)."""
    monkeypatch.setattr(engine.scheduler, "speech_budget", lambda *a: seconds)
    engine.scheduler.costs.seconds_per_id = 0.1  # 10 characters per second of speech


def test_a_thin_lead_cuts_chunks_to_clauses(fresh: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    _budget(fresh, 0.5, monkeypatch)  # little buffered: the smallest sized chunk
    texts = _texts(fresh, REPLY)
    assert texts[:3] == [
        "Sure.",
        "I found three flights that match:",
        "one leaves at seven in the morning,",
    ]
    assert " ".join(texts).split() == REPLY.split()


def test_a_device_that_is_behind_keeps_later_chunks_as_released(
    fresh: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No budget: a gap comes whatever the size, and small chunks would only add fixed
    per-call costs to it; but the chunk right after the first is still the smallest
    clause, since the first chunk's short audio is all the listener has."""
    _budget(fresh, 0.0, monkeypatch)
    texts, fixed = (
        _texts(fresh, REPLY),
        split_text(REPLY, first_chunk_chars=fresh.first_chunk_chars),
    )
    assert texts[:2] == ["Sure.", "I found three flights that match:"]
    assert texts[2:] == [fixed[1].removeprefix("I found three flights that match: "), *fixed[2:]]


def test_the_first_audio_waits_for_a_second_chunk_that_would_come_late(
    fresh: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """When the scheduler predicts the second chunk is ready only after the first has played
    out, the first leaves together with it (within a bound) instead of before a gap."""
    seen: list[bool] = []
    real_finish = SynthesisStream._finish

    def finish(self: SynthesisStream, item, wav):
        if self._index == 0 and len(self._plan.items) > 1:
            seen.append(self._plan.items[1].future.done())
        return real_finish(self, item, wav)

    monkeypatch.setattr(SynthesisStream, "_finish", finish)
    monkeypatch.setattr(stream_module, "FIRST_HOLD_BOUND_S", 60.0)
    monkeypatch.setattr(fresh.scheduler, "ready_in", lambda future: 0.0 if future.done() else 60.0)
    _texts(fresh, REPLY)
    assert seen == [True]
    monkeypatch.setattr(fresh.scheduler, "ready_in", lambda future: 0.0)  # predicted in time
    seen.clear()
    _texts(fresh, REPLY)
    assert len(seen) == 1  # delivered at once, whether or not the second was done


async def test_the_hold_is_bounded_and_ends_when_the_second_chunk_is_ready(
    fresh: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(fresh.scheduler, "ready_in", lambda future: 60.0)  # never in time
    monkeypatch.setattr(stream_module, "FIRST_HOLD_BOUND_S", 0.05)
    chunks = [c.text async for c in fresh.stream(REPLY, fresh.options())]
    assert " ".join(chunks).split() == REPLY.split()


def test_a_growing_lead_packs_sentences_up_to_the_model_limit(
    fresh: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    _budget(fresh, 60.0, monkeypatch)  # 600 characters: capped at 300
    texts = _texts(fresh, REPLY * 3)
    assert texts[0] == "Sure."  # the first chunk keeps the short first-chunk rule
    assert all(len(t) <= 300 for t in texts) and max(len(t) for t in texts[1:]) > 150
    assert " ".join(texts).split() == (REPLY * 3).split()


def test_a_seed_fixes_the_noise_not_the_split(
    fresh: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A seeded stream is sized by the lead like any other; the same text, seed and split
    give the same audio."""
    _budget(fresh, 60.0, monkeypatch)
    packed = list(fresh.iter_chunks(REPLY, fresh.options(seed=3)))
    assert [c.text for c in packed] == _texts(fresh, REPLY)
    again = list(fresh.iter_chunks(REPLY, fresh.options(seed=3)))
    assert [c.samples.tobytes() for c in again] == [c.samples.tobytes() for c in packed]
    _budget(fresh, 0.5, monkeypatch)
    assert len(_texts(fresh, REPLY, seed=3)) > len(packed)


def test_the_budget_follows_the_lead_and_the_costs() -> None:
    """More audio buffered, a larger next chunk; a stream not playing yet counts the audio
    of its first chunk, which plays while the next one is synthesized."""
    from supertonic_core.scheduler import Scheduler

    class _NoRuntime:
        latent_channels = 144

    sched = Scheduler(_NoRuntime(), sample_rate=44100, frame=3072, max_batch=1)  # type: ignore[arg-type]
    try:
        for stage, fixed, per_frame in (
            (Stage.PREPARE, 0.01, 0.0005),
            (Stage.DENOISE, 0.05, 0.0015),
            (Stage.VOCODE, 0.05, 0.002),
        ):
            sched.costs.record(stage, 1, 10, fixed + 10 * per_frame)
            sched.costs.record(stage, 1, 100, fixed + 100 * per_frame)
        stream = sched.open_stream()
        assert sched.speech_budget(stream, [], 8) == 0.0  # nothing buffered, nothing queued
        sched.delivered(stream, 2.0)
        thin = sched.speech_budget(stream, [], 8)
        sched.delivered(stream, 10.0)
        thick = sched.speech_budget(stream, [], 8)
        assert thin is not None and thick is not None and 0 < thin < thick
        # per second of speech ~0.21 s of compute, after ~0.46 s fixed per chunk, planning on
        # three quarters of the time left
        assert thick == pytest.approx((0.75 * (12.0 - 0.2) - 0.46) / 0.2082, rel=0.05)
    finally:
        sched.close()


def test_cost_lines_learn_a_fixed_part() -> None:
    costs = CostModel()
    assert costs.call(Stage.DENOISE, 10) is None
    costs.record(Stage.DENOISE, 1, 10, 0.2)
    assert costs.call(Stage.DENOISE, 20) == pytest.approx(0.4)  # one length: proportional
    for _ in range(50):
        costs.record(Stage.DENOISE, 1, 10, 0.1 + 10 * 0.01)
        costs.record(Stage.DENOISE, 1, 100, 0.1 + 100 * 0.01)
    assert costs.call(Stage.DENOISE, 0) == pytest.approx(0.1, rel=0.05)
    assert costs.call(Stage.DENOISE, 50) == pytest.approx(0.6, rel=0.05)


def test_first_chunk_steps_apply_to_the_first_chunk_only(fresh: Engine) -> None:
    steps: list[int] = []
    submit = fresh.scheduler.submit

    def spy(request):
        steps.append(request.steps)
        return submit(request)

    fresh.scheduler.submit = spy  # type: ignore[method-assign]
    _texts(fresh, "Hello there! How can I help you today? Tell me.", first_chunk_steps=2, steps=6)
    assert steps[0] == 2 and set(steps[1:]) == {6}


@pytest.mark.parametrize("value", [0, 33, 2.5, "4", True])
def test_first_chunk_steps_are_validated(engine: Engine, value: object) -> None:
    with pytest.raises(InvalidOptionError) as info:
        engine.options(first_chunk_steps=value)
    assert "first_chunk_steps" in str(info.value)


def test_the_phrase_cache_serves_a_repeated_opener(fresh: Engine) -> None:
    def first_chunk(**options) -> np.ndarray:
        return next(iter(fresh.iter_chunks("Sure. " + REPLY[6:], fresh.options(**options)))).samples

    calls = fresh.scheduler.calls
    a = first_chunk()
    assert fresh.phrase_cache.stats()["hits"] == 0
    b = first_chunk()  # another request, another random seed: served from the cache
    assert fresh.phrase_cache.stats()["hits"] >= 1
    np.testing.assert_array_equal(a, b)
    assert fresh.scheduler.calls > calls

    seeded = first_chunk(seed=5)  # an explicit seed gets exactly that seed's audio
    assert first_chunk(seed=5).tobytes() == seeded.tobytes()
    assert not np.array_equal(seeded, first_chunk(seed=6))
    assert not np.array_equal(a, first_chunk(voice="M1"))  # the voice is part of the key


def test_the_phrase_cache_is_bounded() -> None:
    from supertonic_core.phrase_cache import PhraseCache, PhraseKey

    cache = PhraseCache(2)
    keys = [PhraseKey(bytes([i]), b"", 1.0, 8, None) for i in range(3)]
    for key in keys:
        cache.put(key, np.zeros(10, dtype=np.float32))
    assert cache.get(keys[0]) is None and cache.get(keys[2]) is not None
    assert cache.stats() == {"hits": 1, "misses": 1, "entries": 2, "bytes": 80, "capacity": 2}
    with pytest.raises(InvalidOptionError):
        PhraseCache(0)


def test_a_stream_tells_its_sample_rate(fresh: Engine) -> None:
    with fresh.open_stream() as stream:
        assert stream.sample_rate == fresh.sample_rate
