"""Errors quote what a client sent, shortened and always encodable (one helper for all)."""

from __future__ import annotations

import pytest
from supertonic_core.errors import (
    QUOTE_CHARS,
    InvalidOptionError,
    UnknownLanguageError,
    UnknownVoiceError,
    UnsupportedCharactersError,
    quote_value,
)
from supertonic_core.protocol import ProtocolError, parse_client_message


def test_quote_value_cuts_long_values_and_says_how_long() -> None:
    assert quote_value("F9") == "'F9'"
    long = quote_value("x" * 1_000_000)
    assert long.endswith("... (1000000 characters)") and len(long) < QUOTE_CHARS + 40
    assert len(quote_value(list(range(100_000)))) < QUOTE_CHARS + 40


def test_quote_value_escapes_what_cannot_be_encoded() -> None:
    quoted = quote_value("a\ud800b")
    assert quoted == "'a\\ud800b'"
    quoted.encode("utf-8")  # no UnicodeEncodeError


@pytest.mark.parametrize(
    "error",
    [
        UnknownVoiceError("v" * 100_000, ["F1"]),
        UnknownLanguageError("l" * 100_000, ["en"]),
        InvalidOptionError("speed", "9" * 100_000, "a number"),
        UnsupportedCharactersError(chr(0x4E00 + i) for i in range(3000)),
    ],
)
def test_core_errors_stay_short(error: Exception) -> None:
    assert len(str(error)) < 400


def test_unsupported_characters_are_listed_up_to_twenty() -> None:
    message = str(UnsupportedCharactersError(chr(0x4E00 + i) for i in range(25)))
    assert message.endswith("and 5 more")


@pytest.mark.parametrize(
    "parse",
    [
        lambda: parse_client_message({"type": "t" * 60_000}),
        lambda: parse_client_message({"type": "config", "voice": ["F1"] * 20_000}),
        lambda: parse_client_message({"type": "config", "encoding": "e" * 60_000}),
    ],
)
def test_protocol_errors_quote_shortened(parse) -> None:
    with pytest.raises(ProtocolError) as info:
        parse()
    assert len(str(info.value)) < 400
