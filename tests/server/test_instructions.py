"""``instructions``: only pace words are used, as a speed when none is given."""

from __future__ import annotations

import pytest
from supertonic_server.instructions import pace_factor, speed_from_instructions


@pytest.mark.parametrize(
    ("text", "factor"),
    [
        ("Speak slowly and clearly.", 0.88),
        ("very slow please", 0.75),
        ("Talk FAST, like an auctioneer", 1.2),
        ("Read it very quickly.", 1.4),
        ("rapidly", 1.4),
        ("Calm, relaxed bedtime voice", 0.88),
        ("Sound cheerful and friendly.", None),
        ("", None),
        (None, None),
        ("breakfast", None),  # a word containing "fast" is not a pace
    ],
)
def test_pace_words(text: str | None, factor: float | None) -> None:
    assert pace_factor(text) == factor


def test_speed_stays_in_the_model_range() -> None:
    assert speed_from_instructions("slowly", 1.05) == 0.924
    assert speed_from_instructions("very fast", 1.8) == 2.0
    assert speed_from_instructions("very slow", 0.55) == 0.5
    assert speed_from_instructions("happy", 1.0) is None
