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
    rescued_characters,
    wrap_language,
)

# ------------------------------------------------------------------ normalize_text
# The official front end (supertonic 1.3.1); tests/core/test_fidelity.py holds it to the
# official package itself over a corpus in every language.


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("ﬁne ＡＢＣ", "fine ABC."),  # NFKD folds ligatures and full-width forms
        ("Wait…", "Wait..."),
        ("Hi 😀 there", "Hi there."),
        ("He said “hi” — OK", 'He said "hi" - OK.'),
        ("it‘s – fine", "it's - fine."),
        ("a_b|c/d#e→f←g", "a b c d e f g."),
        ("see [1] {x}", "see 1 {x}"),  # braces stay, and a closing } needs no period
        ("【注意】", "【注意】"),  # kept, and a closing 】 needs no period
        ("«Bonjour»", "«Bonjour»"),
        ("I ♥ you ☆ ♡ ©2024 a\\b", "I you 2024 ab."),
        ("mail me @ home", "mail me at home."),
        ("fruit, e.g., apples", "fruit, for example, apples."),
        ("one, i.e., this", "one, that is, this."),
        ("a , b . c ! d ? e ; f : g", "a, b. c! d? e; f: g."),
        ('He said ""hi""', 'He said "hi"'),
        ("It''s", "It's."),
        ("It's 'quoted'", "It's'quoted'"),  # one space before ' goes
        ("It's  'quoted'", "It's 'quoted'"),  # of two, one goes
        ("a\t, b", "a , b."),  # only a plain space before a mark goes
        ("  lots   of \n\n space\t", "lots of space."),
        ("costs .5 more", "costs.5 more."),
        ("non\u2011breaking", "non\u2010breaking."),  # NFKD makes it U+2010, which stays
    ],
)
def test_normalize_text_is_the_official_front_end(raw: str, expected: str) -> None:
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
        '"Stop!"',
        "(as I said.)",
        "(as I said)",
        "「はい。」",
        "「はい」",
        'He said "hi"',
        "and then,",
        "first:",
        "so;",
    ],
)
def test_normalize_text_keeps_existing_final_punctuation(text: str) -> None:
    out = normalize_text(text)
    assert out == unicodedata.normalize("NFKD", text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Hello", "Hello."),
        ("안녕", "안녕."),
        ("كيف حالك؟", "كيف حالك؟."),  # the official's rule knows neither ؟ nor । nor ॥
        ("मेरा नाम राम है।", "मेरा नाम राम है।."),
        ("श्लोक॥", "श्लोक॥."),
        ("wait -", "wait -."),
        ("wait —", "wait -."),
    ],
)
def test_normalize_text_adds_final_period(text: str, expected: str) -> None:
    assert normalize_text(text) == unicodedata.normalize("NFKD", expected)


def test_normalize_text_treats_tags_as_text_like_the_official() -> None:
    assert normalize_text("<laugh> that's funny <breath>") == "<laugh> that's funny <breath>."
    assert normalize_text("so <long_pause> well") == "so <long pause> well."
    assert normalize_text("<deep_breath>OK") == "<deep breath>OK."
    assert normalize_text("a <B_c> <Not> x") == "a <B c> <Not> x."


@pytest.mark.parametrize("text", ["", "   \n\t ", "😀🎉", "🇺🇸"])
def test_normalize_text_of_nothing_is_empty(text: str) -> None:
    assert normalize_text(text) == ""  # the official would send "."


# --------------------------------------------------- characters the indexer refuses


def refusing(chars: str) -> TextIndexer:
    """An indexer that reads everything of the BMP but ``chars``."""
    table = np.arange(65536, dtype=np.int64)
    for ch in chars:
        table[ord(ch)] = -1
    return TextIndexer(table)


@pytest.mark.parametrize(
    ("raw", "refused", "expected"),
    [
        ("x\u200by\u00adz\ufeff", "\u200b\u00ad\ufeff", "xyz."),  # invisible: dropped
        ("👨\u200d👩\u200d👧 family 🇺🇸 ❤️ love", "\u200d\ufe0f", "family love."),
        ("1️⃣ one", "\ufe0f\u20e3", "1 one."),
        ("a \u200b b", "\u200b", "a b."),  # the steps run again: no double space
        ("«Bonjour»", "«»", '"Bonjour"'),  # plain forms, then the official's end rule
        ("„ja“ – nein", "„\u2013", '"ja" - nein.'),
        ("【注意】です", "【】", "(注意)です."),
        ("• item", "•", "item."),
        ("dash\u2010here", "\u2010", "dash-here."),
        ("{x}", "{}", "(x)"),
        ("mahjong 🀄", "", "mahjong."),  # above the BMP: refused by every table
    ],
)
def test_refused_characters_are_dropped_or_made_plain(
    raw: str, refused: str, expected: str
) -> None:
    indexer = refusing(refused)
    assert normalize_text(raw, indexer) == unicodedata.normalize("NFKD", expected)
    assert not indexer.unsupported(normalize_text(raw, indexer))


def test_supported_characters_are_left_as_the_official_sends_them() -> None:
    indexer = refusing("")
    for raw in ["x\u200by", "«Bonjour»", "• item", "【注意】"]:
        assert normalize_text(raw, indexer) == normalize_text(raw)


def test_rescued_characters_are_listed_for_warnings() -> None:
    indexer = refusing("\u200b«»")
    assert rescued_characters("«a\u200bb» c", indexer) == ["«", "\u200b", "»"]
    assert rescued_characters("plain", indexer) == []


def test_characters_without_a_rule_stay_refused() -> None:
    indexer = refusing("€")
    assert normalize_text("5€", indexer) == "5€."
    assert indexer.unsupported(normalize_text("5€", indexer)) == ["€"]


# ---------------------------------------------------- a chunk cut inside a sentence


@pytest.mark.parametrize(
    ("text", "lang", "expected"),
    [
        ("Well, as I was saying", "en", "<en>Well, as I was saying,</en>"),
        ("Well, as I was saying,", "en", "<en>Well, as I was saying,</en>"),
        ("As I said;", "en", "<en>As I said;</en>"),
        ("and then —", "en", "<en>and then -</en>"),  # no period after the dash at a cut
        (
            "「はい」と彼は",
            "ja",
            "<ja>" + unicodedata.normalize("NFKD", "「はい」と彼は") + "、</ja>",
        ),
        ("これは、", "ja", "<ja>" + unicodedata.normalize("NFKD", "これは、") + "</ja>"),
        ("مرحبا يا", "ar", "<ar>مرحبا يا،</ar>"),
        ("Привет", "ru", "<ru>Привет,</ru>"),
    ],
)
def test_a_cut_never_ends_in_a_period(text: str, lang: str, expected: str) -> None:
    assert prepare_text(text, lang, cut=True) == expected


def test_a_cut_falls_back_to_a_comma_the_indexer_reads() -> None:
    assert prepare_text("これは", "ja", refusing("、"), cut=True).endswith("は,</ja>")


def test_prepare_text_untagged_for_the_english_only_model() -> None:
    assert prepare_text("Hello world", "en", tagged=False) == "Hello world."


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
        prepare_text(text, "en", refusing("\u200b"))


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
