"""Shape buckets: the edges sizes round up to, and padding that changes no row."""

from __future__ import annotations

from supertonic_core import Engine
from supertonic_core.bundle import Bundle
from supertonic_core.runtime import Runtime, RuntimeOptions
from supertonic_core.shapes import EXACT, Buckets

from .test_device import assert_same_audio


def test_sizes_round_up_to_the_next_edge() -> None:
    buckets = Buckets(text=(64, 128), latent=(32, 64), batch=(1, 2, 4))
    assert [buckets.text_len(n) for n in (1, 64, 65, 128, 129, 300)] == [64, 64, 128, 128, 256, 384]
    assert [buckets.latent_len(n) for n in (1, 33, 64, 65)] == [32, 64, 64, 128]
    assert [buckets.batch_size(n) for n in (1, 2, 3, 4, 5)] == [1, 2, 4, 4, 8]
    assert EXACT.text_len(77) == 77 and EXACT.batch_size(3) == 3


def test_a_padded_batch_repeats_its_last_row() -> None:
    assert Buckets().fill(["a", "b", "c"]) == ["a", "b", "c", "c"]
    assert EXACT.fill(["a", "b", "c"]) == ["a", "b", "c"]


def test_buckets_change_no_rows_audio(tiny_bundle: Bundle, engine: Engine) -> None:
    """Rows of several lengths, padded in text, latent and batch: each row's audio is
    within 1e-5 of the unbucketed batch's (and of the same length)."""
    exact = Runtime(tiny_bundle, RuntimeOptions(device="cpu"))
    for options in ({"buckets": True}, {"buckets": True, "io_binding": True}):
        bucketed = Runtime(tiny_bundle, RuntimeOptions(device="cpu", **options))
        assert bucketed.buckets == Buckets()
        assert_same_audio(bucketed, exact, engine, atol=1e-5)
