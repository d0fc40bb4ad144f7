"""Tests of the model's text preprocessing and the character indexer (no model needed)."""

from __future__ import annotations

import json
import unicodedata
from pathlib import Path

import numpy as np
import pytest
from supertonic_core.errors import (
    BundleInvalidError,
    EmptyTextError,
    UnknownLanguageError,
    UnsupportedCharactersError,
)
from supertonic_core.text import (
    TextIndexer,
    is_speakable,
    normalize_text,
    prepare_text,
    wrap_language,
)

# ------------------------------------------------------------------ normalize_text


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("ﬁne ＡＢＣ", "fine ABC."),  # NFKD folds ligatures and full-width forms
        ("Wait…", "Wait..."),
        ("Hi 😀 there", "Hi there."),
        ("👨\u200d👩\u200d👧 family 🇺🇸 ❤️ love", "family love."),  # ZWJ sequences, flags, VS16
        ("x\u200by\u00adz\ufeff", "xyz."),  # invisible characters
        ("He said “hi” — OK", 'He said "hi" - OK.'),
        ("it‘s – fine", "it's - fine."),
        ("a_b|c/d#e→f←g", "a b c d e f g."),
        ("see [1] {x}", "see 1 x."),
        ("【注意】", "(注意)."),
        ("I ♥ you ☆ ♡ ©2024 a\\b", "I you 2024 ab."),
        ("mail me @ home", "mail me at home."),
        ("fruit, e.g., apples", "fruit, for example, apples."),
        ("one, i.e., this", "one, that is, this."),
        ("a , b . c ! d ? e ; f : g", "a, b. c! d? e; f: g."),
        ('He said ""hi""', 'He said "hi".'),
        ("It''s", "It's."),
        ("  lots   of \n\n space\t", "lots of space."),
        ("costs .5 more", "costs .5 more."),  # a decimal keeps its space
    ],
)
def test_normalize_text_training_preprocessing(raw: str, expected: str) -> None:
    assert normalize_text(raw) == unicodedata.normalize("NFKD", expected)


def test_normalize_text_decomposes_accents_like_training() -> None:
    out = normalize_text("café")
    assert out == "cafe\u0301."
    assert normalize_text("한") == unicodedata.normalize("NFKD", "한") + "."


@pytest.mark.parametrize(
    "text",
    [
        "Hello!",
        "Really?",
        "Wait...",
        "日本語の文章です。",
        "本当？",  # NFKD makes the full-width mark ASCII
        "كيف حالك؟",
        "मेरा नाम राम है।",
        "श्लोक॥",
        '"Stop!"',
        "(as I said.)",
        "「はい。」",
        "and then,",
        "first:",
    ],
)
def test_normalize_text_keeps_existing_final_punctuation(text: str) -> None:
    out = normalize_text(text)
    assert out == unicodedata.normalize("NFKD", text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("Hello", "Hello."), ('He said "hi"', 'He said "hi".'), ("안녕", "안녕.")],
)
def test_normalize_text_adds_final_period(text: str, expected: str) -> None:
    assert normalize_text(text) == unicodedata.normalize("NFKD", expected)


def test_normalize_text_keeps_expression_tags() -> None:
    assert normalize_text("<laugh> that's funny <breath>") == "<laugh> that's funny <breath>."
    assert normalize_text("so <long_pause> well") == "so <long_pause> well."
    assert normalize_text("<sigh>OK") == "<sigh>OK."
    # Only lower-case word tags are tags; other angle brackets are ordinary text.
    assert normalize_text("a <B_c> <Not> x") == "a <B c> <Not> x."


@pytest.mark.parametrize("text", ["", "   \n\t ", "😀🎉", "\u200b\ufeff"])
def test_normalize_text_of_nothing_is_empty(text: str) -> None:
    assert normalize_text(text) == ""


# ---------------------------------------------------------------- wrapping, prepare


def test_wrap_language() -> None:
    assert wrap_language("Hi.", "en") == "<en>Hi.</en>"
    assert wrap_language("Hi.", " KO ") == "<ko>Hi.</ko>"
    assert wrap_language("Hi.", "na") == "<na>Hi.</na>"
    with pytest.raises(UnknownLanguageError, match="'xx'"):
        wrap_language("Hi.", "xx")


def test_prepare_text() -> None:
    assert prepare_text("Hello world", "en") == "<en>Hello world.</en>"
    assert prepare_text("日本語です。", "ja") == "<ja>" + normalize_text("日本語です。") + "</ja>"


@pytest.mark.parametrize("text", ["", "   ", "😀", "\u200b"])
def test_prepare_text_rejects_empty(text: str) -> None:
    with pytest.raises(EmptyTextError):
        prepare_text(text, "en")


def test_prepare_text_checks_language_first() -> None:
    with pytest.raises(UnknownLanguageError):
        prepare_text("Hello", "zz")


@pytest.mark.parametrize(
    ("text", "speakable"),
    [
        ("Hello", True),
        ("42", True),
        ("٣", True),  # an Arabic-Indic digit
        ("日本", True),
        ("안녕", True),
        ("नमस्ते", True),
        ("<laugh>", True),  # an expression tag is a sound the model makes
        ("...", False),
        ("…", False),
        ("—", False),
        ("?!", False),
        ('"()"', False),
        ("😀", False),
        ("", False),
        ("   ", False),
    ],
)
def test_is_speakable(text: str, speakable: bool) -> None:
    assert is_speakable(text) is speakable


# ------------------------------------------------------------------ TextIndexer

ALPHABET = " .,!?'\"-abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ<>/"


def small_table() -> np.ndarray:
    table = np.full(65536, -1, dtype=np.int64)
    for i, ch in enumerate(ALPHABET, start=1):
        table[ord(ch)] = i
    return table


@pytest.fixture
def indexer() -> TextIndexer:
    return TextIndexer(small_table())


def test_encode_shapes_padding_and_mask(indexer: TextIndexer) -> None:
    ids, mask = indexer.encode(["ab", "Hello.", "c"])
    assert ids.dtype == np.int64 and ids.shape == (3, 6)
    assert mask.dtype == np.float32 and mask.shape == (3, 1, 6)
    table = small_table()
    assert ids[1].tolist() == [table[ord(c)] for c in "Hello."]
    assert ids[0].tolist() == [table[ord("a")], table[ord("b")], 0, 0, 0, 0]
    assert mask[:, 0, :].tolist() == [
        [1, 1, 0, 0, 0, 0],
        [1, 1, 1, 1, 1, 1],
        [1, 0, 0, 0, 0, 0],
    ]


def test_encode_accepts_a_list_table_and_a_tuple_batch() -> None:
    indexer = TextIndexer(small_table().tolist())
    ids, mask = indexer.encode(("<en>Hi.</en>",))
    assert ids.shape == (1, 12) and mask.sum() == 12
    assert indexer.size == 65536


def test_encode_names_every_unsupported_character(indexer: TextIndexer) -> None:
    with pytest.raises(UnsupportedCharactersError) as err:
        indexer.encode(["a€b☃", "ok", "x€ü"])
    assert err.value.characters == sorted({"€", "☃", "ü"})
    message = str(err.value)
    assert "U+20AC" in message and "U+2603" in message and "U+00FC" in message
    assert err.value.param == "input"


def test_code_points_above_the_table_are_unsupported() -> None:
    indexer = TextIndexer(small_table())
    assert indexer.unsupported("a𝒜b😀") == ["𝒜", "😀"]  # above U+FFFF
    short = TextIndexer(small_table()[:128])
    assert short.unsupported("abcé") == ["é"]
    with pytest.raises(UnsupportedCharactersError):
        short.encode(["é"])


def test_unsupported_lists_distinct_characters_in_order(indexer: TextIndexer) -> None:
    assert indexer.unsupported("hello") == []
    assert indexer.unsupported("ü a ü é € é") == ["ü", "é", "€"]
    assert indexer.unsupported("") == []


def test_encode_rejects_empty_input(indexer: TextIndexer) -> None:
    with pytest.raises(EmptyTextError):
        indexer.encode([])
    with pytest.raises(EmptyTextError, match="text 1"):
        indexer.encode(["a", ""])
    with pytest.raises(TypeError, match="sequence of texts"):
        indexer.encode("abc")  # type: ignore[arg-type]


def test_indexer_from_file(tmp_path: Path) -> None:
    path = tmp_path / "unicode_indexer.json"
    path.write_text(json.dumps(small_table().tolist()))
    indexer = TextIndexer.from_file(path)
    ids, _ = indexer.encode(["ab"])
    assert ids.tolist() == [[ALPHABET.index("a") + 1, ALPHABET.index("b") + 1]]


@pytest.mark.parametrize(
    ("content", "match"),
    [
        ("{not json", "not readable JSON"),
        ('{"a": 1}', "flat, non-empty list of integers"),
        ("[]", "flat, non-empty list of integers"),
        ("[[1, 2], [3, 4]]", "flat, non-empty list of integers"),
        ('[1, "x"]', "flat, non-empty list of integers"),
        ("[1.5, 2.0]", "flat, non-empty list of integers"),
    ],
)
def test_indexer_from_invalid_file(tmp_path: Path, content: str, match: str) -> None:
    path = tmp_path / "unicode_indexer.json"
    path.write_text(content)
    with pytest.raises(BundleInvalidError, match=match) as err:
        TextIndexer.from_file(path)
    assert str(path) in str(err.value)


def test_indexer_from_missing_file(tmp_path: Path) -> None:
    with pytest.raises(BundleInvalidError, match="not found"):
        TextIndexer.from_file(tmp_path / "nope.json")


def test_indexer_table_is_copied_and_read_only() -> None:
    table = small_table()
    indexer = TextIndexer(table)
    table[ord("a")] = -1
    assert indexer.unsupported("a") == []


def test_prepared_text_round_trips_through_the_indexer(indexer: TextIndexer) -> None:
    model_text = prepare_text("Hello   world", "en")
    ids, mask = indexer.encode([model_text, prepare_text("ok", "en")])
    assert ids.shape[1] == len(model_text) and int(mask[0].sum()) == len(model_text)
