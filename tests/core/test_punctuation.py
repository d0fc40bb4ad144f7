"""The splitter, the pause after a chunk and the word timings read punctuation alike.

Each once kept its own table of marks, and they drifted: a chunk the splitter ended at a
sentence got only the short pause of an unknown ending, ``;`` weighed like a period in the
word timings and like a comma in the pauses. These tests hold the three to one reading.
"""

from __future__ import annotations

import itertools

import pytest
from supertonic_core.audio import CLAUSE_PAUSE, pause_after
from supertonic_core.chunking import Boundary, split_pieces
from supertonic_core.timing import estimate_word_timings

SENTENCE = pause_after("Done.")
CLAUSE = pause_after("and then,")


def gaps(text: str, lang: str = "en") -> list[float]:
    """Silence the word timings leave after each word but the last."""
    timings = estimate_word_timings(text, 4.0, lang=lang)
    return [b.start - a.end for a, b in itertools.pairwise(timings)]


@pytest.mark.parametrize("mark", list(".!?…。！？｡؟।॥۔"))
def test_every_sentence_end_of_the_splitter_gets_a_sentence_pause(mark: str) -> None:
    pieces = split_pieces(f"The first sentence is here{mark} And the second one follows.", "na")
    assert len(pieces) == 2 and pieces[0].end is Boundary.SENTENCE
    assert pause_after(pieces[0].text) == SENTENCE


@pytest.mark.parametrize(
    "text",
    [
        "「今日は晴れです。」",
        "『はい。』",
        "（そうです。）",
        "«Oui.»",
        "‹Non.›",
        "[Done.]",
        "{Done.}",
    ],
)
def test_a_sentence_in_any_closing_bracket_keeps_its_pause(text: str) -> None:
    assert pause_after(text) == SENTENCE


@pytest.mark.parametrize("mark", list(",;:、，；：،؛·\u0387—–"))
def test_clause_marks_pause_as_clauses(mark: str) -> None:
    assert pause_after(f"one{mark}") == CLAUSE == CLAUSE_PAUSE


def test_a_semicolon_is_a_clause_for_pauses_and_timings_alike() -> None:
    comma, semicolon, period = gaps("one, two; three. four")
    assert semicolon == pytest.approx(comma)
    assert period > semicolon
    assert pause_after("one;") == CLAUSE


def test_in_greek_the_semicolon_is_a_question_mark_everywhere() -> None:
    pieces = split_pieces("Τι κάνεις σήμερα το πρωί; Καλά είμαι, ευχαριστώ.", "el")
    assert [p.text for p in pieces] == ["Τι κάνεις σήμερα το πρωί;", "Καλά είμαι, ευχαριστώ."]
    assert pause_after(pieces[0].text, lang="el") == SENTENCE
    assert pause_after("Τι κάνεις\u037e", lang="el") == SENTENCE
    question, comma, period = gaps("Τι; Καλά, ευχαριστώ. Ναι", "el")
    assert question == pytest.approx(period)
    assert question > comma


def test_the_greek_question_mark_outside_greek_reads_as_the_semicolon_it_equals() -> None:
    # U+037E is canonically ";" (NFC turns one into the other).
    assert pause_after("one\u037e") == pause_after("one;") == CLAUSE
    first, second = gaps("one\u037e two; three")
    assert first == pytest.approx(second)


def test_a_dash_word_pauses_and_a_hyphenated_prefix_does_not() -> None:
    assert pause_after("and then -") == CLAUSE
    assert pause_after("the pre-") < CLAUSE
    _, dash, prefix, _ = gaps("well - pre- and post-war")
    assert dash > 0 and prefix == 0
