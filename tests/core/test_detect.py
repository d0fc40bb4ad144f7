"""``lang: auto``: the script/letter/word heuristic (lingua, when installed, is tried first),
for a whole text (detect) and for one sentence, only when sure (confident)."""

from __future__ import annotations

import pytest
from supertonic_core import LANGUAGES
from supertonic_core.detect import confident, detect, heuristic


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("안녕하세요, 반갑습니다.", "ko"),
        ("こんにちは、元気ですか。", "ja"),
        ("مرحبا بكم في البيت", "ar"),
        ("नमस्ते, आप कैसे हैं?", "hi"),
        ("Καλημέρα σας, τι κάνετε;", "el"),
        ("Привет, как у тебя дела?", "ru"),
        ("Привіт, як справи? Їжак.", "uk"),
        ("Здравей, как си? Всичко ъгъл.", "bg"),
        ("The weather is nice and the sun is out.", "en"),
        ("Der Hund ist nicht in dem Haus und die Katze auch nicht.", "de"),
        ("El perro no está en la casa y los niños juegan.", "es"),
        ("Le chat est dans la maison et il dort.", "fr"),
        ("Xin chào, bạn có khỏe không?", "vi"),
        ("Güzel bir gün, çok teşekkürler ve iyi akşamlar.", "tr"),
        ("Dziękuję bardzo, to jest piękny dzień.", "pl"),
    ],
)
def test_heuristic(text: str, lang: str) -> None:
    assert heuristic(text) == lang


def test_no_evidence_falls_back_to_the_default_and_says_so() -> None:
    assert heuristic("12345 !!!") is None
    assert detect("12345", tuple(LANGUAGES), "en") == ("en", "default")
    lang, method = detect("안녕하세요", tuple(LANGUAGES), "en")
    assert lang == "ko" and method in ("heuristic", "lingua")


def test_languages_outside_the_model_are_never_returned() -> None:
    lang, method = detect("안녕하세요", ("en", "es"), "en")
    assert (lang, method) == ("en", "default")


@pytest.mark.parametrize(
    ("sentence", "lang"),
    [
        ("Das neue iPhone ist da und es ist nicht billig.", "de"),
        ("This is the best phone and it is not cheap.", "en"),
        ("Le chat est dans la maison et il dort.", "fr"),
        ("El perro no está en la casa y los niños juegan.", "es"),
        ("O cão não está em casa e as crianças brincam.", "pt"),
        ("Il cane non sta in casa con i bambini della scuola.", "it"),
        ("Привет, как у тебя дела?", "ru"),
        ("안녕하세요, 반갑습니다.", "ko"),
    ],
)
def test_a_sentence_with_clear_evidence_gets_its_language(sentence: str, lang: str) -> None:
    assert confident(sentence, tuple(LANGUAGES)) == lang


@pytest.mark.parametrize(
    "sentence",
    ["Merci.", "Hello world", "I love it.", "12:30, 4 GB", "iPhone Pro Max", "OK!"],
)
def test_a_sentence_without_clear_evidence_gets_none(sentence: str) -> None:
    """Too few words, or a name: the stream's own language is used instead."""
    assert confident(sentence, tuple(LANGUAGES)) is None


def test_a_sure_answer_outside_the_models_languages_is_none() -> None:
    assert confident("Привет, как у тебя дела?", ("en", "de")) is None
