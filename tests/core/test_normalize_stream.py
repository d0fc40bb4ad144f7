"""Normalisation of streamed text: token by token equals whole, offsets point back into
the original, pauses become silence (supertonic_core.normalize through the stream)."""

from __future__ import annotations

import functools
import re

import numpy as np
import pytest
from supertonic_core import Engine
from supertonic_core.detect import confident
from supertonic_core.normalize import Pause, StreamNormalizer, speak

from tests.core.test_normalize import (
    DE,
    EMOJI,
    EN,
    ES,
    FR,
    IT,
    JA,
    KO,
    LENGTHS,
    MARKDOWN,
    OTHERS,
    PAUSES,
    PT,
    RU,
)

CASES = (
    [("en", t) for t, _ in EN + MARKDOWN + PAUSES]
    + [("en", t) for t, _, _ in EMOJI]
    + [(lang, t) for lang, table in (("de", DE), ("fr", FR), ("es", ES), ("pt", PT)) for t, _ in table]
    + [(lang, t) for lang, table in (("it", IT), ("ru", RU), ("ko", KO), ("ja", JA)) for t, _ in table]
    + [(lang, t) for lang, t, _ in OTHERS + LENGTHS]
)  # fmt: skip

REPLY = (
    "## Your trip\n\n"
    "Here is the plan for **Monday**:\n\n"
    "- Leave at 7:45 am from [the station](https://example.com/station).\n"
    "- Tickets cost $12.50 each, about 15% less than last year.\n"
    "- Call +1 415 555 0100 if you are late.\n\n"
    '```json\n{"day": 1}\n```\n\n'
    "Enjoy the 10 km walk! 🎉 [pause:300ms] See you on 2026-12-01."
)


def streamed(text: str, lang: str, deltas: list[str]) -> str:
    normalizer = StreamNormalizer(lang)
    items: list[str | Pause] = []
    for delta in deltas:
        items += normalizer.push(delta)
    items += normalizer.flush()
    assert normalizer.source == text
    parts = [f" [pause:{i.seconds:g}] " if isinstance(i, Pause) else i for i in items]
    return " ".join("".join(parts).split())


def by_characters(text: str) -> list[str]:
    return list(text)


def by_tokens(text: str) -> list[str]:
    """Like an LLM: words with their leading space, digits and marks apart."""
    return re.findall(r"\s*(?:\d|[^\W\d_]+|[^\w\s]|_)", text) + re.findall(r"\s*$", text)[:1]


@pytest.mark.parametrize(("lang", "text"), [*CASES, ("en", REPLY)])
def test_token_by_token_equals_whole(lang: str, text: str) -> None:
    whole = speak(text, lang)
    assert "".join(by_tokens(text)) == text
    assert streamed(text, lang, by_tokens(text)) == whole
    assert streamed(text, lang, by_characters(text)) == whole


def test_amount_split_across_tokens() -> None:
    assert streamed("It is $1", "en", ["It is $1"]) == "It is one dollar"
    assert streamed("It is $12.50 now.", "en", ["It is $1", "2.50 now."]) == (
        "It is twelve dollars fifty now."
    )


def test_text_is_released_before_the_end() -> None:
    normalizer = StreamNormalizer("en")
    assert normalizer.push("The first sentence is") == ["The first sentence"]
    assert normalizer.push(" here. And") == [" is here."]
    assert normalizer.push(" then $1") == [" And"]  # "then" may be "then $1,000"


def test_word_offsets_point_into_the_original() -> None:
    text = "It costs **$12.50** on 2026-12-01, see [docs](https://x.io)."
    normalizer = StreamNormalizer("en")
    spoken = "".join(i for i in normalizer.whole(text) if isinstance(i, str))
    for match in re.finditer(r"\S+", spoken):
        a, b = normalizer.spoken.source_span(match.start(), match.end())
        assert 0 <= a < b <= len(text)
    at = spoken.index("twelve")
    assert text[slice(*normalizer.spoken.source_span(at, at + 6))] == "$12.50"
    at = spoken.index("docs")
    assert text[slice(*normalizer.spoken.source_span(at, at + 4))] == "docs"


def test_stream_word_timings_name_the_original_words(engine: Engine) -> None:
    text = "It costs $12.50 on 2026-12-01."
    chunks = list(engine.iter_chunks(text, engine.options(seed=1)))
    # A rewritten span read over two chunks is named by the first chunk, and the second
    # keeps only what is new (the period); nothing is named twice.
    assert "".join(c.text for c in chunks).replace(" ", "") == text.replace(" ", "")
    words = [w.word for c in chunks for w in c.words]
    assert words in (
        ["It", "costs", "$12.50", "on", "2026-12-01."],
        ["It", "costs", "$12.50", "on", "2026-12-01", "."],
    )
    times = [(w.start, w.end) for c in chunks for w in c.words]
    assert all(a <= b for a, b in times) and times == sorted(times)


def test_markdown_reply_chunks_cover_the_original(engine: Engine) -> None:
    stream = engine.open_stream(engine.options(seed=2))
    for token in by_tokens(REPLY):
        stream.add_text(token)
    stream.end()
    with stream:
        chunks = list(stream)
    said = " ".join(c.text for c in chunks if c.text)
    assert "**" not in " ".join(w.word for c in chunks for w in c.words) or "**Monday**:" in said
    assert "$12.50" in said and "7:45 am" in said and "+1 415 555 0100" in said
    assert '"day"' not in said  # the code block is not spoken, nor shown as spoken
    pauses = [c for c in chunks if not c.text]
    assert [round(c.duration, 3) for c in pauses] == [0.3]


def test_pause_is_silence_of_that_length(engine: Engine) -> None:
    rate = engine.sample_rate
    chunks = list(engine.iter_chunks("Wait [pause:1.5s] now.", engine.options(seed=1)))
    assert [c.text for c in chunks] == ["Wait", "", "now."]
    silence = chunks[1]
    assert silence.duration == pytest.approx(1.5, abs=1 / rate)
    assert not np.any(silence.samples) and silence.words == ()


def test_normalize_off_sends_the_text_as_written(engine: Engine) -> None:
    opts = engine.options(seed=1, normalize=False)
    chunks = list(engine.iter_chunks("It costs $12.50.", opts))
    assert [w.word for c in chunks for w in c.words] == ["It", "costs", "$12.50."]
    stream = engine.open_stream(opts)
    assert stream.add_text("It costs $1") == []
    stream.close()


def test_bad_options_are_named(engine: Engine) -> None:
    from supertonic_core.errors import InvalidOptionError

    with pytest.raises(InvalidOptionError, match="emoji"):
        engine.options(emoji="spell")
    with pytest.raises(InvalidOptionError, match="normalize"):
        engine.options(normalize="yes")


def test_random_llm_like_text_streams_like_whole_and_never_fails() -> None:
    """A fixed-seed jumble of the hard pieces (amounts, tags, markdown, CJK, emoji) in
    every language: no exception, and character by character equals whole."""
    import random

    from supertonic_core.languages import LANGUAGES

    pieces = [*"0123456789 .,:-/%$€*_#`[]()<>!?|~+@\n'\"", "km", "pm", "USD", " XIV ", "Dr.",
              "https://", ".com", "[pause:", "ms]", "```", "\n- ", "\n## ", "| a |", "🎉",
              "가", "日本", "。", "1st", "2026-12-01", "3:30", "+1 ", "1.234", "R$", " word "]  # fmt: skip
    rng = random.Random(16)
    for _ in range(300):
        lang = rng.choice(list(LANGUAGES))
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(1, 25)))
        assert streamed(text, lang, by_characters(text)) == speak(text, lang), (lang, text)


def test_lang_spans_switch_the_rules_and_switch_back() -> None:
    text = 'Der Preis: <lang xml:lang="en">It costs $5.</lang> Danke, 3 Euro.'
    assert speak(text, "de") == (
        "Der Preis: [lang:en] It costs five dollars. [lang:de] Danke, drei Euro."
    )
    beside = 'Hello <lang xml:lang="fr">Il coûte 5 €</lang> <break time="1s"/> bye 3.'
    assert (
        speak(beside, "en") == "Hello [lang:fr] Il coûte cinq euros [lang:en] [pause:1] bye three."
    )


def test_a_sentence_gets_its_detected_language_only_when_detection_is_sure() -> None:
    detect = functools.partial(confident, languages=("en", "fr", "de"))
    text = (
        "It costs 5 dollars. Je ne sais pas ce que tu veux dire, mais c'est très intéressant. Ok."
    )
    assert speak(text, "en", detect=detect) == (
        "It costs five dollars. [lang:fr] Je ne sais pas ce que tu veux dire, mais c'est très "
        "intéressant. [lang:en] Ok."
    )


def test_a_chunk_never_mixes_two_languages(engine: Engine) -> None:
    text = 'Hello there, friends. <lang xml:lang="fr">Bonjour mes amis.</lang> Bye now.'
    chunks = [c.text for c in engine.iter_chunks(text, engine.options(seed=1))]
    assert any("Bonjour" in c for c in chunks), chunks
    assert not any("Bonjour" in c and ("friends" in c or "Bye" in c) for c in chunks), chunks


def test_add_chunk_reads_its_text_aloud(engine: Engine) -> None:
    options = engine.options(seed=4)
    stream = engine.open_stream(options)
    stream.add_chunk("It costs $5.")
    stream.end()
    with stream:
        chunks = list(stream)
    assert [w.word for c in chunks for w in c.words] == ["It", "costs", "$5."]
    spoken = engine.synthesize(
        "It costs five dollars.", options.model_copy(update={"normalize": False})
    )
    assert sum(len(c.samples) for c in chunks) == len(spoken)
