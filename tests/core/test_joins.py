"""How chunks end and join: what the model receives at a cut inside a sentence, the pause
after a paragraph, packing within a paragraph only, French guillemets, Japanese spacing.

Issue 12 (fidelity to the official pipeline); the official package's own comparisons are
in test_fidelity.py.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from supertonic_core import Engine
from supertonic_core.audio import pause_after
from supertonic_core.chunking import Boundary, IncrementalSplitter, split_pieces, split_text


def spoken(engine: Engine, ids: np.ndarray) -> str:
    """The model text a job's ids stand for."""
    table = json.loads(engine.bundle.indexer_path.read_text(encoding="utf-8"))
    chars = {token: chr(cp) for cp, token in enumerate(table) if token >= 0}
    return "".join(chars[int(i)] for i in ids)


LONG = (
    "Well, as I was saying to the committee yesterday afternoon, the long-term plan "
    "for the new building needs far more careful thought than anyone expected."
)


def test_a_chunk_cut_inside_a_sentence_does_not_end_in_a_period(engine: Engine) -> None:
    stream = engine.open_stream(engine.options(seed=1))
    stream.add_text(LONG)
    stream.end()
    first, rest = stream._plan.items[0], stream._plan.items[1]
    assert first.text == "Well, as I was saying to the committee yesterday"
    assert spoken(engine, first.ids) == f"<en>{first.text},</en>"  # a comma, not a period
    assert spoken(engine, rest.ids) == f"<en>{rest.text}</en>"  # the sentence's own end
    stream.close()


def test_a_cut_is_followed_by_a_clause_pause_at_most() -> None:
    assert pause_after("we were saying", cut=True) <= 0.12
    assert pause_after('"Stop!" she', cut=True) <= 0.12
    assert pause_after("she said “Stop!”", cut=True) <= 0.12
    assert pause_after("and then,", cut=True) == pause_after("and then,")


def test_a_paragraph_end_is_known_after_whitespace_collapses() -> None:
    pieces = split_pieces("One paragraph ends.\n\nAnother starts. It goes on.\n\n\nLast one.")
    assert [(p.text, p.end) for p in pieces] == [
        ("One paragraph ends.", Boundary.PARAGRAPH),
        ("Another starts.", Boundary.SENTENCE),
        ("It goes on.", Boundary.PARAGRAPH),
        ("Last one.", Boundary.SENTENCE),
    ]
    first, rest = split_pieces(LONG, first_chunk_chars=50)
    assert (first.end, rest.end) == (Boundary.CUT, Boundary.SENTENCE)


async def test_a_paragraph_is_followed_by_the_paragraph_pause(released_split: Engine) -> None:
    engine = released_split
    text = "The first paragraph ends right here.\n\nThe second one starts here. It goes on."
    chunks = [c async for c in engine.stream(text, engine.options(seed=3))]
    assert [c.text for c in chunks] == [
        "The first paragraph ends right here.",
        "The second one starts here.",
        "It goes on.",
    ]
    pauses = [c.duration - c.speech_duration for c in chunks]
    assert pauses[0] == pytest.approx(pause_after("", paragraph=True), abs=1e-4)
    assert pauses[1] == pytest.approx(pause_after("here."), abs=1e-4)
    assert pause_after("", paragraph=True) > pause_after("here.")


async def test_sentences_are_never_packed_across_a_paragraph(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A thick lead packs sentences up to the model's limit, as the official does: within
    a paragraph only, like the official."""
    monkeypatch.setattr(engine.scheduler, "speech_budget", lambda *args: 1000.0)
    text = (
        "Short opener here.\n\nSecond paragraph, sentence one. Sentence two of it.\n\n"
        "Third paragraph now."
    )
    stream = engine.open_stream(engine.options())
    stream.add_text(text)
    stream.end()
    async with stream:
        chunks = [c async for c in stream]
    assert [c.text for c in chunks] == [
        "Short opener here.",
        "Second paragraph, sentence one. Sentence two of it.",
        "Third paragraph now.",
    ]
    paragraph = pause_after("", paragraph=True)
    assert [round(c.duration - c.speech_duration, 4) for c in chunks] == [
        round(paragraph, 4),
        round(paragraph, 4),
        0.0,
    ]


@pytest.mark.parametrize(
    ("text", "chunks"),
    [
        (
            "Il a dit : «\u00a0Bonjour.\u00a0» Puis il est parti.",
            ["Il a dit : « Bonjour. »", "Puis il est parti."],
        ),
        ("Il a dit : «\u00a0Bonjour, mon ami\u00a0!\u00a0»", ["Il a dit : « Bonjour, mon ami ! »"]),
        (
            "Elle a répondu : «\u00a0Non, merci.\u00a0»\u00a0Et elle est partie.",
            ["Elle a répondu : « Non, merci. »", "Et elle est partie."],
        ),
        # German opens quotes with »: after a plain space it starts the next sentence
        (
            "Er ging langsam nach Hause. »Hallo«, sagte sie dann leise.",
            ["Er ging langsam nach Hause.", "»Hallo«, sagte sie dann leise."],
        ),
    ],
)
def test_a_guillemet_after_a_no_break_space_stays_with_its_sentence(
    text: str, chunks: list[str]
) -> None:
    assert split_text(text, "fr") == chunks
    splitter = IncrementalSplitter("fr")
    streamed = [c for ch in text for c in splitter.push(ch)] + splitter.flush()
    assert streamed == chunks


def test_no_chunk_starts_with_a_closing_mark() -> None:
    text = (
        "Il m'a dit en passant devant la boulangerie du coin : «\u00a0Je reviendrai "
        "demain matin\u00a0» et il est reparti sans se retourner une seule fois\u00a0!"
    )
    for first in (20, 30, 40, 50, 60, 70, 80):
        for chunk in split_text(text, "fr", first_chunk_chars=first, max_chars=90):
            assert chunk[0] not in "»!?", (first, chunk)


async def test_a_cut_made_for_a_thin_lead_gets_no_period_either(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Chunks sized by the lead are cut when it is thin: the head is a cut like any other."""
    monkeypatch.setattr(engine.scheduler, "speech_budget", lambda *args: 1e-3)  # thin: 40 chars
    sent: list[str] = []
    submit = engine.scheduler.submit

    def record(request):
        sent.append(spoken(engine, request.ids))
        return submit(request)

    monkeypatch.setattr(engine.scheduler, "submit", record)
    stream = engine.open_stream(engine.options())
    stream.add_text("Sure thing. " + LONG)
    stream.end()
    async with stream:
        chunks = [c async for c in stream]
    assert (
        len(chunks) >= 4
        and " ".join(c.text for c in chunks).split() == ("Sure thing. " + LONG).split()
    )
    for chunk, model_text in zip(chunks[1:-1], sent[1:-1], strict=True):
        assert model_text[-6] != ".", (chunk.text, model_text)
        assert chunk.duration - chunk.speech_duration <= 0.12 + 1e-4
    assert sent[-1].endswith("expected.</en>")


async def test_packed_japanese_sentences_keep_their_spacing(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Japanese is written without spaces: packing its sentences adds none (the official
    sends a Japanese paragraph whole, as written)."""
    monkeypatch.setattr(engine.scheduler, "speech_budget", lambda *args: 1000.0)
    text = "はい、わかりました。今日はとても良い天気ですね。明日も晴れるでしょう。"
    stream = engine.open_stream(engine.options(lang="ja"))
    stream.add_text(text)
    stream.end()
    async with stream:
        chunks = [c async for c in stream]
    assert len(chunks) == 2 and "".join(c.text for c in chunks) == text
