"""Pronunciation dictionaries (supertonic_core.pronunciation): PLS and JSON files, matching
rules, refusals that name the file, and word timings that keep the written form."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from supertonic_core import Engine
from supertonic_core.bundle import Bundle
from supertonic_core.errors import LexiconError, UnknownLexiconError
from supertonic_core.normalize import StreamNormalizer, speak
from supertonic_core.pronunciation import (
    MAX_FILE_BYTES,
    PronunciationDictionary,
    Pronunciations,
    load_dictionaries,
    load_dictionary,
    parse_json,
    parse_pls,
)

PLS = """<?xml version="1.0" encoding="UTF-8"?>
<lexicon version="1.0" xmlns="http://www.w3.org/2005/01/pronunciation-lexicon"
         alphabet="ipa" xml:lang="en-US">
  <lexeme><grapheme>SQL</grapheme><alias>sequel</alias></lexeme>
  <lexeme><grapheme>GIF</grapheme><grapheme>Gif</grapheme><alias>jif</alias></lexeme>
  <lexeme><grapheme>New York</grapheme><alias>Noo York</alias></lexeme>
  <lexeme><grapheme>tomato</grapheme><phoneme>təˈmɑːtoʊ</phoneme></lexeme>
</lexicon>
"""


def said(text: str, *dictionaries: PronunciationDictionary, lang: str = "en") -> str:
    return speak(text, lang, pronunciations=Pronunciations(dictionaries))


def test_pls_alias_entries_are_read_and_phonemes_skipped() -> None:
    brands = parse_pls(PLS, "brands")
    assert len(brands) == 4 and brands.skipped == 1 and brands.languages == ("en",)
    assert said("Is SQL a GIF or a Gif?", brands) == "Is sequel a jif or a jif?"
    assert said("I love New York.", brands) == "I love Noo York."
    assert said("SQL ist gut.", brands, lang="de") == "SQL ist gut."  # an English lexicon


def test_json_for_every_language_and_for_one() -> None:
    names = parse_json(
        '{"Nguyen": "Win", "gif": "jif", "de": {"SQL": "Es Ku El"},'
        ' "IT": {"alias": "I T", "match_case": true}}',
        "names",
    )
    assert said("Nguyen sent a GIF and a gif.", names) == "Win sent a jif and a jif."
    assert said("SQL und Nguyen.", names, lang="de") == "Es Ku El und Win."
    assert said("IT said it.", names) == "I T said it."


def test_whole_words_only_and_the_first_dictionary_wins() -> None:
    first = PronunciationDictionary.from_mapping("first", {"SQL": "sequel"})
    second = PronunciationDictionary.from_mapping("second", {"SQL": "ess cue ell", "ID": "eye dee"})
    assert said("MySQL and SQL, ID.", first, second) == "MySQL and sequel, eye dee."


def test_respellings_meet_the_other_rules() -> None:
    units = PronunciationDictionary.from_mapping("units", {"ACME": "Acme"})
    assert said("ACME costs $5.", units) == "Acme costs five dollars."


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        ('<!DOCTYPE lexicon [<!ENTITY x "y">]><lexicon/>', "DTD"),
        ("<lexicon><lexeme><grapheme>a</grapheme><alias></alias></lexeme></lexicon>", "empty"),
        ("<lexicon><lexeme", "not valid XML"),
    ],
)
def test_bad_pls_is_refused_naming_the_file(data: str, problem: str) -> None:
    with pytest.raises(LexiconError, match=re.compile(f"brands.*{problem}", re.I)):
        parse_pls(data, "brands")


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        ("[1, 2]", "expected an object"),
        ('{"SQL": ""}', "empty"),
        ('{"xx": {"SQL": "sequel"}}', "unknown language 'xx'"),
        ("{", "not valid JSON"),
    ],
)
def test_bad_json_is_refused_naming_the_file(data: str, problem: str) -> None:
    with pytest.raises(LexiconError, match=re.escape(problem)):
        parse_json(data, "names")


def test_files_are_named_by_their_stem_and_bounded(tmp_path: Path) -> None:
    (tmp_path / "brands.pls").write_text(PLS, encoding="utf-8")
    assert load_dictionary(tmp_path / "brands.pls").name == "brands"
    (tmp_path / "notes.txt").write_text("SQL=sequel", encoding="utf-8")
    with pytest.raises(LexiconError, match="unknown kind of file"):
        load_dictionary(tmp_path / "notes.txt")
    (tmp_path / "big.json").write_bytes(b" " * (MAX_FILE_BYTES + 1))
    with pytest.raises(LexiconError, match="at most"):
        load_dictionary(tmp_path / "big.json")
    with pytest.raises(LexiconError, match="cannot be read"):
        load_dictionary(tmp_path / "missing.json")


def test_offsets_of_a_longer_and_a_shorter_respelling_point_at_the_written_word() -> None:
    words = PronunciationDictionary.from_mapping(
        "words", {"SQL": "structured query language", "Nguyen": "Win"}
    )
    text = "Ask Nguyen about SQL today."
    normalizer = StreamNormalizer("en", pronunciations=Pronunciations([words]))
    spoken = "".join(i for i in normalizer.whole(text) if isinstance(i, str))
    assert spoken == "Ask Win about structured query language today."
    for respelling, written in (("Win", "Nguyen"), ("structured query language", "SQL")):
        at = spoken.index(respelling)
        span = normalizer.spoken.source_span(at, at + len(respelling))
        assert text[slice(*span)] == written
    at = spoken.index("today")
    assert text[slice(*normalizer.spoken.source_span(at, at + 5))] == "today"


def test_engine_word_timings_name_the_written_words(tiny_bundle: Bundle) -> None:
    words = PronunciationDictionary.from_mapping("words", {"SQL": "structured query language"})
    with Engine(tiny_bundle, lexicons=[words]) as engine:
        options = engine.options(seed=1, pronunciations={"Nguyen": "Win"})
        chunks = list(engine.iter_chunks("Ask Nguyen about SQL today.", options))
        assert [w.word for c in chunks for w in c.words] == [
            "Ask",
            "Nguyen",
            "about",
            "SQL",
            "today.",
        ]
        with pytest.raises(UnknownLexiconError, match="'medical'; loaded: words"):
            engine.options(lexicons=["medical"])
        plain = engine.options(lexicons=[])
        longer = engine.options(lexicons=["words"])
        text = "SQL."
        assert len(engine.synthesize(text, plain.model_copy(update={"seed": 1}))) < len(
            engine.synthesize(text, longer.model_copy(update={"seed": 1}))
        )


def test_two_dictionaries_of_one_name_are_refused(tiny_bundle: Bundle, tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "brands.json").write_text('{"SQL": "sequel"}', encoding="utf-8")
    (tmp_path / "brands.pls").write_text(PLS, encoding="utf-8")
    loaded = load_dictionaries([tmp_path / "a" / "brands.json", tmp_path / "brands.pls"])
    with pytest.raises(LexiconError, match="brands: two dictionaries of this name"):
        Engine(tiny_bundle, lexicons=loaded)
