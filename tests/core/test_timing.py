"""Tests of estimated word timings (no model needed)."""

from __future__ import annotations

import dataclasses
import itertools
import math
import random

import pytest
from supertonic_core.errors import InvalidOptionError, UnknownLanguageError
from supertonic_core.timing import (
    WordTiming,
    estimate_character_timings,
    estimate_word_timings,
    split_words,
)


def assert_well_formed(timings: list[WordTiming], offset: float, duration: float) -> None:
    assert timings[0].start == offset
    assert timings[-1].end == offset + duration
    for t in timings:
        assert t.start <= t.end
    for a, b in itertools.pairwise(timings):
        assert a.end <= b.start


def test_words_keep_their_punctuation_and_span_the_chunk() -> None:
    timings = estimate_word_timings("Hello, world! How are you?", 2.0)
    assert [t.word for t in timings] == ["Hello,", "world!", "How", "are", "you?"]
    assert_well_formed(timings, 0.0, 2.0)


def test_offset_shifts_everything_and_edges_are_exact() -> None:
    text = "The quick brown fox jumps over the lazy dog."
    base = estimate_word_timings(text, 3.3)
    shifted = estimate_word_timings(text, 3.3, offset=10.7)
    assert_well_formed(shifted, 10.7, 3.3)
    for a, b in zip(base, shifted, strict=True):
        assert math.isclose(b.start - a.start, 10.7) and math.isclose(b.end - a.end, 10.7)


def test_longer_words_take_longer() -> None:
    a, b = estimate_word_timings("a extraordinarily", 1.0)
    assert (b.end - b.start) > 5 * (a.end - a.start)


def test_numbers_weigh_more_than_their_length() -> None:
    word, number = estimate_word_timings("abcd 2024", 1.0)
    assert (number.end - number.start) > (word.end - word.start)


def test_pause_after_punctuation_leaves_a_gap() -> None:
    timings = estimate_word_timings("Well, yes. Fine then", 2.0)
    gaps = [b.start - a.end for a, b in itertools.pairwise(timings)]
    assert gaps[0] > 0 and gaps[1] > gaps[0]  # a period pauses longer than a comma
    assert gaps[2] == 0


def test_final_pause_is_not_left_empty() -> None:
    timings = estimate_word_timings("Stop.", 0.8, offset=1.0)
    assert timings == [WordTiming("Stop.", 1.0, 1.8)]


def test_japanese_is_split_per_character() -> None:
    timings = estimate_word_timings("「日本語です。」APIを使う", 2.0, lang="ja")
    assert [t.word for t in timings] == [
        "「日",
        "本",
        "語",
        "で",
        "す。」",
        "API",
        "を",
        "使",
        "う",
    ]
    assert_well_formed(timings, 0.0, 2.0)


def test_small_kana_and_long_vowel_marks_stay_with_their_mora() -> None:
    assert split_words("ちょっとコーヒー") == ["ちょっ", "と", "コー", "ヒー"]


def test_chinese_with_na() -> None:
    timings = estimate_word_timings("你好，世界！", 1.0, lang="na")
    assert [t.word for t in timings] == ["你", "好，", "世", "界！"]


def test_korean_is_split_on_spaces() -> None:
    timings = estimate_word_timings("안녕하세요, 반갑습니다.", 1.5, lang="ko")
    assert [t.word for t in timings] == ["안녕하세요,", "반갑습니다."]
    assert_well_formed(timings, 0.0, 1.5)


def test_arabic_and_hindi() -> None:
    arabic = estimate_word_timings("أنا بخير، شكرا.", 1.2, lang="ar")
    assert [t.word for t in arabic] == ["أنا", "بخير،", "شكرا."]
    assert arabic[1].end < arabic[2].start  # the Arabic comma pauses
    hindi = estimate_word_timings("मेरा नाम राम है।", 1.0, lang="hi")
    assert len(hindi) == 4 and hindi[-1].word == "है।"


def test_expression_tags_are_words() -> None:
    timings = estimate_word_timings("<laugh> that is funny", 2.0)
    assert timings[0].word == "<laugh>"
    assert (timings[0].end - timings[0].start) > (timings[2].end - timings[2].start)


def test_punctuation_only_words_still_get_a_span() -> None:
    timings = estimate_word_timings("wait — what", 1.0)
    assert [t.word for t in timings] == ["wait", "—", "what"]
    assert_well_formed(timings, 0.0, 1.0)
    only = estimate_word_timings("...", 0.5)
    assert only == [WordTiming("...", 0.0, 0.5)]


@pytest.mark.parametrize("text", ["", "   ", "\n\t"])
def test_no_words_no_timings(text: str) -> None:
    assert estimate_word_timings(text, 1.0) == []


def test_zero_duration() -> None:
    timings = estimate_word_timings("two words", 0.0, offset=4.0)
    assert all(t.start == t.end == 4.0 for t in timings)


@pytest.mark.parametrize("duration", [-0.1, math.nan, math.inf, "1.0", True])
def test_invalid_duration(duration: object) -> None:
    with pytest.raises(InvalidOptionError, match="duration"):
        estimate_word_timings("hello", duration)  # type: ignore[arg-type]


@pytest.mark.parametrize("offset", [math.nan, -math.inf, None])
def test_invalid_offset(offset: object) -> None:
    with pytest.raises(InvalidOptionError, match="offset"):
        estimate_word_timings("hello", 1.0, offset=offset)  # type: ignore[arg-type]


def test_unknown_language() -> None:
    with pytest.raises(UnknownLanguageError):
        estimate_word_timings("hello", 1.0, lang="xx")


def test_word_timing_is_frozen() -> None:
    timing = WordTiming("hi", 0.0, 0.5)
    with pytest.raises(dataclasses.FrozenInstanceError):
        timing.start = 1.0  # type: ignore[misc]


def test_random_chunks_keep_every_character_in_order() -> None:
    rng = random.Random(11)
    alphabet = [*"abc XYZ 12 ,.!?。、「」日本語ですちょっとー안녕 كي ", "<laugh>", "—", "  "]
    for _ in range(300):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 60)))
        duration, offset = rng.uniform(0, 5), rng.uniform(0, 100)
        timings = estimate_word_timings(text, duration, offset=offset, lang="na")
        assert "".join(t.word for t in timings) == "".join(text.split())
        if timings:
            assert_well_formed(timings, offset, duration)


def test_character_timings_cover_the_chunk_without_gaps() -> None:
    words = estimate_word_timings("Hi there. Bye!", 2.0, offset=1.0)
    symbols = estimate_character_timings(words, start=1.0, end=3.5)
    assert "".join(s.symbol for s in symbols) == "HithereBye"  # punctuation takes no time
    assert symbols[0].start == 1.0
    for before, after in itertools.pairwise(symbols):
        assert after.start == pytest.approx(before.start + before.duration)
    assert symbols[-1].symbol == "" and symbols[-1].start + symbols[-1].duration == pytest.approx(
        3.5
    )
    assert "" in [s.symbol for s in symbols[:-1]]  # the pause after "there."


def test_character_timings_of_symbols_only_and_cjk() -> None:
    (only,) = estimate_character_timings([WordTiming("—", 0.0, 0.2)], start=0.0, end=0.2)
    assert (only.symbol, only.duration) == ("—", pytest.approx(0.2))
    kana = estimate_character_timings(
        estimate_word_timings("こんにちは", 1.0, lang="ja"), start=0, end=1
    )
    assert [s.symbol for s in kana] == list("こんにちは")
