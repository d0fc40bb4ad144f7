"""An utterance resumed on another connection after its first one is lost mid-way."""

from __future__ import annotations

import pytest
from supertonic_core import Engine
from supertonic_core.mux import ConnectionLost, MuxContext, SpeechMux
from supertonic_core.protocol import Audio
from supertonic_core.resume import ResumableContext
from supertonic_core.session import SpeechSession

TEXT = " ".join(f"Sentence number {n} is said once and only once." for n in range(1, 9))


class Replicas:
    """Connections to "replicas" (sessions of one engine), each opened on demand."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.muxes: list[SpeechMux] = []
        self.given_back: list[MuxContext] = []

    async def open_context(self) -> MuxContext:
        mux = SpeechMux(SpeechSession(self.engine))
        self.muxes.append(mux)
        return mux.open("turn")

    async def give_back(self, ctx: MuxContext) -> None:
        self.given_back.append(ctx)
        await ctx.release()

    async def aclose(self) -> None:
        for mux in self.muxes:
            await mux.aclose()


async def test_a_lost_connection_resumes_from_the_last_audio_received(
    released_split: Engine,
) -> None:
    replicas = Replicas(released_split)
    ctx = await ResumableContext(replicas.open_context, replicas.give_back).start()
    try:
        await ctx.configure(voice="M2")
        for start in range(0, len(TEXT), 9):
            await ctx.send_text(TEXT[start : start + 9])
        await ctx.close()
        audio: list[Audio] = []
        async for event in ctx.utterance(idle_timeout=30):
            assert isinstance(event, Audio), event
            audio.append(event)
            if len(audio) == 2:
                await replicas.muxes[0].aclose()  # the replica dies mid-utterance
        assert len(replicas.muxes) == 2 and len(ctx.resumes) == 1
        spoken = [w.word for a in audio for w in a.words]
        assert spoken == TEXT.split()  # every word once, in order
        assert audio[-1].text_end == len(TEXT)
        ends = [a.offset_s + a.duration_s for a in audio]
        assert all(
            b.offset_s == pytest.approx(e, abs=1e-3)
            for b, e in zip(audio[1:], ends[:-1], strict=True)
        )
        starts = [w.start for a in audio for w in a.words]
        assert starts == sorted(starts)  # word times continue across the resume
    finally:
        await replicas.aclose()


async def test_a_refusal_a_retry_cannot_fix_is_not_resumed(released_split: Engine) -> None:
    replicas = Replicas(released_split)
    ctx = await ResumableContext(replicas.open_context, replicas.give_back).start()
    try:
        await ctx.send_text(TEXT)
        await ctx.close()
        ctx.ctx.deliver(ConnectionLost("refused", code="unauthorized"))
        with pytest.raises(ConnectionLost):
            async for _ in ctx.utterance(idle_timeout=30):
                pass
        assert len(replicas.muxes) == 1
    finally:
        await replicas.aclose()


async def test_a_connection_lost_before_the_first_audio_is_resumed_too(
    released_split: Engine,
) -> None:
    """Lost between opening and the first word (a replica that began to drain): the
    settings and text sent into the dead connection are sent again on the new one."""
    replicas = Replicas(released_split)
    ctx = await ResumableContext(replicas.open_context, replicas.give_back).start()
    try:
        await replicas.muxes[0].aclose()
        await ctx.configure(voice="M2")
        await ctx.send_text(TEXT)
        await ctx.close()
        audio = [event async for event in ctx.utterance(idle_timeout=30)]
        assert [w.word for a in audio for w in a.words] == TEXT.split()
    finally:
        await replicas.aclose()
