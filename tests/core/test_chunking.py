"""Tests of sentence chunking, whole and streamed (no model needed)."""

from __future__ import annotations

import itertools
import random
import re

import pytest
from supertonic_core.chunking import (
    MIN_FRAGMENT,
    IncrementalSplitter,
    cut_head,
    default_max_chars,
    split_text,
)
from supertonic_core.errors import InvalidOptionError, UnknownLanguageError


def non_space(chunks: list[str]) -> str:
    return "".join("".join(chunks).split())


# ------------------------------------------------------------------- sentences


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Dr. Smith went to Washington. He said he would come back.",
            ["Dr. Smith went to Washington.", "He said he would come back."],
        ),
        (
            "Mrs. Jones met Prof. Brown at St. Mary's yesterday. They talked for hours.",
            ["Mrs. Jones met Prof. Brown at St. Mary's yesterday.", "They talked for hours."],
        ),
        (
            "It costs $3.50 today. Tomorrow it costs 1,000.50 euros.",
            ["It costs $3.50 today.", "Tomorrow it costs 1,000.50 euros."],
        ),
        (
            "J. R. R. Tolkien wrote The Hobbit. It was published in 1937.",
            ["J. R. R. Tolkien wrote The Hobbit.", "It was published in 1937."],
        ),
        (
            '"Stop!" she said to the driver. Then the bus finally stopped.',
            ['"Stop!" she said to the driver.', "Then the bus finally stopped."],
        ),
        (
            "I was thinking... maybe we should go home. Wait... Nobody answered the door.",
            ["I was thinking... maybe we should go home.", "Wait... Nobody answered the door."],
        ),
        (
            "Bring fruit, e.g. apples and pears. Also bring water, i.e. two bottles.",
            ["Bring fruit, e.g. apples and pears.", "Also bring water, i.e. two bottles."],
        ),
        (
            "Apples, pears, etc. are all fine here. We sell fruit, vegetables, etc. Come by.",
            [
                "Apples, pears, etc. are all fine here.",
                "We sell fruit, vegetables, etc.",
                "Come by.",
            ],
        ),
        (
            "She works at Acme Inc. and likes it there. He lives in the U.S. It is big there.",
            [
                "She works at Acme Inc. and likes it there.",
                "He lives in the U.S.",
                "It is big there.",
            ],
        ),
        (
            "Room No. 5 is on the left side. See Fig. 3 for the whole floor plan.",
            ["Room No. 5 is on the left side.", "See Fig. 3 for the whole floor plan."],
        ),
        (
            "Is it really true?! I cannot believe what you just said.",
            ["Is it really true?!", "I cannot believe what you just said."],
        ),
        (
            "He asked (quietly.) Then he left the room without a word.",
            ["He asked (quietly.)", "Then he left the room without a word."],
        ),
        (
            "Visit example.com for the details. The site is always up.",
            ["Visit example.com for the details.", "The site is always up."],
        ),
    ],
)
def test_english_sentences(text: str, expected: list[str]) -> None:
    assert split_text(text, "en") == expected


def test_numbered_list_markers_are_not_sentence_ends() -> None:
    text = "Here are the steps to follow:\n1. Open the box carefully.\n2. Take the device out."
    assert split_text(text) == [
        "Here are the steps to follow:",
        "1. Open the box carefully.",
        "2. Take the device out.",
    ]
    bullets = "Shopping list for today\n- fresh eggs from the farm\n- two liters of milk"
    assert split_text(bullets) == [
        "Shopping list for today",
        "- fresh eggs from the farm",
        "- two liters of milk",
    ]


def test_single_line_breaks_inside_a_sentence_are_spaces() -> None:
    text = "This sentence was wrapped\nby an editor at forty columns\nfor no reason."
    assert split_text(text) == [
        "This sentence was wrapped by an editor at forty columns for no reason."
    ]


def test_paragraphs_split_first_and_are_never_merged() -> None:
    text = "Hi.\n\nThis is the second paragraph\n\n\n  Third one without a period"
    assert split_text(text) == [
        "Hi.",
        "This is the second paragraph",
        "Third one without a period",
    ]


def test_short_fragments_merge_with_the_next_sentence() -> None:
    text = "Yes. OK. I will do that for you right now. Sure. Done."
    assert split_text(text) == ["Yes. OK. I will do that for you right now.", "Sure. Done."]
    # ... but not when the result would pass max_chars.
    assert split_text("Yes. I will do that for you right now.", max_chars=20) == [
        "Yes.",
        "I will do that for",
        "you right now.",
    ]


def test_german_ordinals_and_abbreviations() -> None:
    text = "Am 3. Oktober ist ein Feiertag in Deutschland. Das ist z.B. ein guter Tag."
    assert split_text(text, "de") == [
        "Am 3. Oktober ist ein Feiertag in Deutschland.",
        "Das ist z.B. ein guter Tag.",
    ]


def test_spanish_and_french_titles() -> None:
    assert split_text("El Sr. García llegó ayer por la tarde. Luego se fue.", "es") == [
        "El Sr. García llegó ayer por la tarde.",
        "Luego se fue.",
    ]
    assert split_text("Mme. Dupont est arrivée hier soir. Elle est partie.", "fr") == [
        "Mme. Dupont est arrivée hier soir.",
        "Elle est partie.",
    ]


def test_japanese_sentences() -> None:
    assert split_text("日本語の文章です。次の文です。", "ja") == [
        "日本語の文章です。",
        "次の文です。",
    ]
    assert split_text("「本当ですか？」と彼は聞いた。はい。そうです。", "ja") == [
        "「本当ですか？」",
        "と彼は聞いた。",
        "はい。そうです。",
    ]


def test_chinese_text_with_na() -> None:
    assert split_text("今天天气很好。我们去公园吧！", "na") == ["今天天气很好。", "我们去公园吧！"]


def test_korean_sentences() -> None:
    text = "안녕하세요. 네. 알겠습니다. 오늘 날씨가 정말 좋네요!"
    assert split_text(text, "ko") == ["안녕하세요.", "네. 알겠습니다.", "오늘 날씨가 정말 좋네요!"]


def test_arabic_sentences_and_clauses() -> None:
    text = "كيف حالك اليوم يا صديقي؟ أنا بخير، شكرا جزيلا لك."
    assert split_text(text, "ar") == ["كيف حالك اليوم يا صديقي؟", "أنا بخير، شكرا جزيلا لك."]
    # The Arabic comma is a clause boundary for long sentences.
    long = "، ".join(["هذه جملة طويلة جدا"] * 12) + "."
    chunks = split_text(long, "ar", max_chars=60)
    assert all(len(c) <= 60 for c in chunks) and len(chunks) > 1
    assert all(c.endswith(("،", ".")) for c in chunks)


def test_hindi_sentences() -> None:
    text = "मेरा नाम राम है और मैं दिल्ली में रहता हूँ। मैं भारत से हूँ॥ आप कैसे हैं?"
    assert split_text(text, "hi") == [
        "मेरा नाम राम है और मैं दिल्ली में रहता हूँ।",
        "मैं भारत से हूँ॥",
        "आप कैसे हैं?",
    ]


def test_greek_question_mark() -> None:
    text = "Τι κάνεις σήμερα το πρωί; Είμαι πολύ καλά, ευχαριστώ."
    assert split_text(text, "el") == ["Τι κάνεις σήμερα το πρωί;", "Είμαι πολύ καλά, ευχαριστώ."]
    # In English a semicolon is a clause mark, not a sentence end.
    assert len(split_text("One part of it; another part of it.", "en")) == 1


def test_emoji_and_tags_stay_in_the_original_chunk() -> None:
    assert split_text("That is great news 🎉! <laugh> I love it.") == [
        "That is great news 🎉!",
        "<laugh> I love it.",
    ]


@pytest.mark.parametrize("text", ["", "   ", "\n\n\t"])
def test_empty_text_gives_no_chunks(text: str) -> None:
    assert split_text(text) == []


@pytest.mark.parametrize("text", ["...", "—", "?!", "…"])
def test_punctuation_only_is_one_chunk(text: str) -> None:
    assert split_text(text) == [text]


# ----------------------------------------------------------------- long sentences


def test_long_sentences_split_at_clauses() -> None:
    sentence = (
        "When the meeting finally started, everyone had already been waiting for an hour, "
        "the coffee had gone cold, and the slides still would not load on the projector."
    )
    chunks = split_text(sentence, max_chars=90)
    assert chunks == [
        "When the meeting finally started, everyone had already been waiting for an hour,",
        "the coffee had gone cold, and the slides still would not load on the projector.",
    ]


def test_long_sentences_without_clauses_split_at_words() -> None:
    words = [f"word{i}" for i in range(100)]
    chunks = split_text(" ".join(words) + ".", max_chars=50)
    assert all(len(c) <= 50 for c in chunks)
    assert " ".join(chunks).split() == [*words[:-1], words[-1] + "."]


def test_very_long_words_are_cut_hard() -> None:
    url = "https://example.com/" + "a" * 480
    chunks = split_text(f"Open {url} now.", max_chars=300)
    assert all(len(c) <= 300 for c in chunks)
    assert non_space(chunks) == non_space([f"Open {url} now."])
    compound = "Donaudampfschifffahrtsgesellschaftskapitän" * 4
    chunks = split_text(compound, "de", max_chars=50)
    assert [len(c) for c in chunks] == [50, 50, 50, 18]
    assert "".join(chunks) == compound


def test_hard_cut_never_separates_a_combining_mark() -> None:
    word = "e\u0301" * 40
    chunks = split_text(word, max_chars=25)
    assert "".join(chunks) == word
    assert all(not c.startswith("\u0301") for c in chunks)


def test_a_run_of_combining_marks_is_cut_at_max_chars_not_one_by_one() -> None:
    # A "word" of 4000 accents has no place to cut outside a mark: it is cut at max_chars
    # (one chunk per 300 characters), not one character per chunk (3700 chunks, each an
    # unspeakable pause, took 7 s to answer and made 12 minutes of silence).
    text = "a" + "\u0301" * 4000
    for lang in ("en", "ko"):
        limit = default_max_chars(lang)
        chunks = split_text(text, lang)
        assert len(chunks) == -(-len(text) // limit)
        assert "".join(chunks) == text
        pieces = IncrementalSplitter(lang).push_pieces(text)
        assert len(pieces) <= -(-len(text) // limit)


def test_cjk_long_sentences_cut_between_characters() -> None:
    text = "これはとても長い文章で" * 20 + "。"
    chunks = split_text(text, "ja")
    assert all(len(c) <= 120 for c in chunks) and "".join(chunks) == text
    with_commas = "、".join(["これは長い文章です"] * 20) + "。"
    chunks = split_text(with_commas, "ja")
    assert all(c.endswith(("、", "。")) for c in chunks)


def test_default_max_chars() -> None:
    assert default_max_chars("en") == 300
    assert default_max_chars("ko") == 120 and default_max_chars("ja") == 120
    korean = "오늘은 날씨가 좋아서 공원에 갔습니다, " * 10
    assert all(len(c) <= 120 for c in split_text(korean, "ko"))
    english = "the weather was nice so we went to the park, " * 10
    assert max(len(c) for c in split_text(english, "en")) > 120


# ------------------------------------------------------------------ first chunk


def test_first_chunk_cut_at_a_clause() -> None:
    text = (
        "Well, to be honest with you, I think that the best way to handle this situation "
        "is to wait. Then we decide."
    )
    chunks = split_text(text, first_chunk_chars=40)
    assert chunks[0] == "Well, to be honest with you,"
    assert chunks[1:] == [
        "I think that the best way to handle this situation is to wait.",
        "Then we decide.",
    ]


def test_first_chunk_cut_at_a_word_boundary() -> None:
    text = "I think that the best way to handle this situation is to wait and see what happens."
    chunks = split_text(text, first_chunk_chars=40)
    assert chunks[0] == "I think that the best way to handle this"
    assert " ".join(chunks).split() == text.split()


def test_first_chunk_rule_applies_only_to_the_first_chunk() -> None:
    second = "And this second sentence is a good deal longer than forty characters."
    chunks = split_text("Short first sentence here. " + second, first_chunk_chars=40)
    assert chunks == ["Short first sentence here.", second]


def test_first_chunk_does_not_wait_for_a_merge() -> None:
    text = "Sure thing. Let me check the account details and find out what went wrong."
    assert split_text(text, first_chunk_chars=40) == [
        "Sure thing.",
        "Let me check the account details and find out what went wrong.",
    ]
    assert split_text("Sure. Let me check.", first_chunk_chars=40) == ["Sure. Let me check."]


def test_first_chunk_keeps_a_sizeable_rest() -> None:
    text = "This sentence here is just a bit too long."
    assert split_text(text, first_chunk_chars=40) == [text]


def test_first_chunk_in_japanese_prefers_commas() -> None:
    text = "本日はお忙しいところお集まりいただき、誠にありがとうございます。それでは始めましょう。"
    chunks = split_text(text, "ja", first_chunk_chars=30)
    assert chunks[0] == "本日はお忙しいところお集まりいただき、"
    no_commas = "本日はお忙しいところお集まりいただき誠にありがとうございました。"
    chunks = split_text(no_commas, "ja", first_chunk_chars=20)
    assert len(chunks[0]) <= 20 and "".join(chunks) == no_commas


def test_first_chunk_never_cuts_inside_a_word() -> None:
    long_word = "Supercalifragilisticexpialidocious-and-more-words-without-spaces"
    chunks = split_text(f"{long_word} is what she said to me.", first_chunk_chars=20)
    assert chunks[0] == long_word


# ------------------------------------------------------------------ bad input


@pytest.mark.parametrize("value", [0, -5, 2.5, "100", True])
def test_invalid_max_chars(value: object) -> None:
    with pytest.raises(InvalidOptionError, match="max_chars"):
        split_text("Hello.", max_chars=value)  # type: ignore[arg-type]
    with pytest.raises(InvalidOptionError, match="max_chars"):
        IncrementalSplitter(max_chars=value)  # type: ignore[arg-type]


@pytest.mark.parametrize("value", [0, -1, "40"])
def test_invalid_first_chunk_chars(value: object) -> None:
    with pytest.raises(InvalidOptionError, match="first_chunk_chars"):
        split_text("Hello.", first_chunk_chars=value)  # type: ignore[arg-type]


def test_unknown_language() -> None:
    with pytest.raises(UnknownLanguageError):
        split_text("Hello.", "xx")
    with pytest.raises(UnknownLanguageError):
        IncrementalSplitter("klingon")


# -------------------------------------------------------------- properties

VOCAB = [
    "Hello", "world", "Dr.", "Mr.", "Smith", "went", "to", "Washington.", "He", "said", "3.",
    "3.50", "$3.50", "J.", "R.", "Tolkien", "e.g.", "i.e.", "etc.", "U.S.", "p.m.", "No.", "5",
    "1.", "-", "—", "Yes.", "OK,", "the", "a", "very", "long", "sentence,", "clause;", "note:",
    "what?", "Stop!", '"Stop!"', "she", "...", "…", "maybe", "Then", "(see", "this).",
    "“quoted.”", "Am", "Oktober", "z.B.", "<laugh>", "😀", "a.m.", "Inc.", "A.", "b.",
    "word—word", "example.com.", "안녕하세요.", "네.", "كيف", "حالك؟", "है।", "Ελλάδα;",
]  # fmt: skip
SEPARATORS = [" ", " ", " ", "  ", "\n", " \n\n ", "\n- ", "\n1. "]
LONG_WORDS = ["x" * 40, "y" * 130, "日本語の文章です。", "次の文です、", "はい！"]


def random_text(rng: random.Random, *, long_words: bool) -> str:
    vocab = VOCAB + LONG_WORDS if long_words else VOCAB
    parts = []
    for _ in range(rng.randint(0, 60)):
        parts.append(rng.choice(vocab))
        parts.append(rng.choice(SEPARATORS))
    return "".join(parts)


def random_options(rng: random.Random) -> dict:
    return {
        "lang": rng.choice(["en", "de", "ja", "ko", "el", "na"]),
        "max_chars": rng.choice([None, 20, 50, 80, 300]),
        "first_chunk_chars": rng.choice([None, None, 15, 40, 100]),
    }


def stream(text: str, cuts: list[int], **options: object) -> list[str]:
    splitter = IncrementalSplitter(**options)  # type: ignore[arg-type]
    chunks: list[str] = []
    bounds = [0, *sorted(cuts), len(text)]
    for a, b in itertools.pairwise(bounds):
        chunks += splitter.push(text[a:b])
    return chunks + splitter.flush()


def test_words_are_never_dropped_or_duplicated() -> None:
    rng = random.Random(1234)
    for _ in range(600):
        text = random_text(rng, long_words=False)
        options = random_options(rng)
        options["max_chars"] = max(options["max_chars"] or 300, 30)  # longer than any word
        chunks = split_text(text, **options)
        assert " ".join(chunks).split() == text.split(), (text, options)


def test_chunks_are_clean_and_bounded() -> None:
    rng = random.Random(99)
    for _ in range(600):
        text = random_text(rng, long_words=True)
        options = random_options(rng)
        chunks = split_text(text, **options)
        limit = options["max_chars"] or default_max_chars(options["lang"])
        assert non_space(chunks) == non_space([text]), (text, options)
        for chunk in chunks:
            assert chunk and chunk == " ".join(chunk.split())
            assert len(chunk) <= limit, (chunk, options)


def test_streaming_gives_the_same_chunks_for_any_cut_points() -> None:
    rng = random.Random(7)
    for _ in range(500):
        text = random_text(rng, long_words=True)
        options = random_options(rng)
        expected = split_text(text, **options)
        cuts = [rng.randrange(len(text) + 1) for _ in range(rng.randint(0, 30))]
        assert stream(text, cuts, **options) == expected, (text, cuts, options)


def test_streaming_character_by_character() -> None:
    rng = random.Random(3)
    for _ in range(100):
        text = random_text(rng, long_words=True)
        options = random_options(rng)
        assert stream(text, list(range(len(text))), **options) == split_text(text, **options)


def test_streaming_holds_back_little_text() -> None:
    rng = random.Random(5)
    for _ in range(200):
        text = random_text(rng, long_words=True)
        options = random_options(rng)
        limit = options["max_chars"] or default_max_chars(options["lang"])
        splitter = IncrementalSplitter(**options)
        for i in range(0, len(text), 3):
            splitter.push(text[i : i + 3])
            assert len(" ".join(splitter.pending.split())) <= limit + 2 * MIN_FRAGMENT


# ---------------------------------------------------------------- streaming


def test_push_releases_a_sentence_once_the_next_one_proves_it() -> None:
    splitter = IncrementalSplitter()
    assert splitter.push("Hello there, my friend.") == []  # more quotes could follow
    assert splitter.push(" W") == ["Hello there, my friend."]
    assert splitter.push("elcome back to the show.") == []
    assert splitter.flush() == ["Welcome back to the show."]


def test_push_waits_after_abbreviations_and_numbers() -> None:
    splitter = IncrementalSplitter()
    assert splitter.push("I met Dr.") == []
    assert splitter.push(" ") == []
    assert splitter.push("Smith at the station yesterday.") == []
    assert splitter.push(" It") == ["I met Dr. Smith at the station yesterday."]
    assert splitter.push(" cost 3.") == []
    assert splitter.push("50 dollars in total.") == []
    assert splitter.push("\n\n") == []
    assert splitter.push("Bye") == ["It cost 3.50 dollars in total."]
    assert splitter.flush() == ["Bye"]


def test_push_releases_the_first_clause_before_the_sentence_ends() -> None:
    splitter = IncrementalSplitter(first_chunk_chars=40)
    released: list[str] = []
    text = "Well, to be honest with you, I think that we should wait"
    for token in re.findall(r"\S+ ?", text):
        released += splitter.push(token)
    assert released == ["Well, to be honest with you,"]
    assert splitter.flush() == ["I think that we should wait"]


def test_push_releases_pieces_of_an_over_long_sentence() -> None:
    splitter = IncrementalSplitter(max_chars=50)
    released: list[str] = []
    for i in range(40):
        released += splitter.push(f"word{i} ")
    assert released and all(len(c) <= 50 for c in released)
    rest = splitter.flush()
    assert " ".join(released + rest).split() == [f"word{i}" for i in range(40)]


def test_flush_starts_a_new_utterance() -> None:
    splitter = IncrementalSplitter(first_chunk_chars=20)
    text = "Alright then, here is the plan for everyone today."
    first = splitter.push(text) + splitter.flush()
    second = splitter.push(text) + splitter.flush()
    assert first == second == split_text(text, first_chunk_chars=20)
    assert first[0] == "Alright then,"
    assert splitter.pending == ""
    assert splitter.flush() == []


def test_push_of_empty_deltas() -> None:
    splitter = IncrementalSplitter()
    assert splitter.push("") == []
    assert splitter.push("   ") == []
    assert splitter.flush() == []


def test_cut_head_at_the_last_clause_that_fits() -> None:
    text = (
        "I found three flights that match: one leaves at seven in the morning, one at noon, "
        "and the last one late in the evening."
    )
    assert cut_head(text, 40) == (
        "I found three flights that match:",
        "one leaves at seven in the morning, one at noon, and the last one late in the evening.",
    )
    head, rest = cut_head(text, 75)
    assert head.endswith("in the morning,") and f"{head} {rest}" == text
    head, rest = cut_head("one two three four five six seven eight nine ten eleven", 30)
    assert len(head) <= 30 and f"{head} {rest}".split() == [
        "one",
        "two",
        "three",
        "four",
        "five",
        "six",
        "seven",
        "eight",
        "nine",
        "ten",
        "eleven",
    ]


def test_cut_head_keeps_text_that_fits_or_has_no_good_cut() -> None:
    assert cut_head("Short one.", 40) == ("Short one.", "")
    assert cut_head("Incomprehensibilities notwithstanding.", 20) == (
        "Incomprehensibilities notwithstanding.",
        "",
    )
    # a rest too short to speak on its own stays with the head
    assert cut_head("Incomprehensibly, yes indeed.", 20) == ("Incomprehensibly, yes indeed.", "")
