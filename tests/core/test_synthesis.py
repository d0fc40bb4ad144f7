"""The vocoder stage over rows of different lengths: one batch, each row exact to its
solo call, and the reach of padding that makes the exact pass necessary."""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np
import onnx
import pytest
from supertonic_core.bundle import Bundle, synthetic_dir, verify_bundle
from supertonic_core.chunk_request import ChunkRequest
from supertonic_core.runtime import Runtime, RuntimeOptions
from supertonic_core.synthesis import Row, Stage, vocode
from supertonic_core.synthetic import CHUNK_COMPRESS_FACTOR, make_synthetic_bundle


def conv_reach_frames(vocoder: Path) -> int:
    """Latent frames a change past a row's end reaches back, read off the graph: the
    'same' convolutions run one after another, each reaching ``dilation * (k - 1) / 2``
    positions (six per latent frame); everything else in it works per position."""
    graph = onnx.load(str(vocoder)).graph
    local = {"Conv", "Add", "Mul", "Div", "Erf", "Tanh", "MatMul", "LayerNormalization"}
    assert {n.op_type for n in graph.node} <= local | {"Reshape", "Transpose"}
    reach = 0
    for node in graph.node:
        if node.op_type == "Conv":
            attrs = {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}
            reach += attrs["dilations"][0] * (attrs["kernel_shape"][0] - 1) // 2
    return math.ceil(reach / CHUNK_COMPRESS_FACTOR)


def rows_of(rt: Runtime, lengths: tuple[int, ...]) -> list[Row]:
    rng = np.random.default_rng(7)
    rows = []
    for frames in lengths:
        row = Row(ChunkRequest(np.ones(3, np.int64), None, 1.0, 1), stage=Stage.VOCODE)  # type: ignore[arg-type]
        row.frames = frames
        row.latent = rng.standard_normal((rt.latent_channels, frames), dtype=np.float32)
        rows.append(row)
    return rows


def check_batched_vocoder(bundle: Bundle, lengths: tuple[int, ...]) -> None:
    for options in ({}, {"buckets": True}):
        rt = Runtime(bundle, RuntimeOptions(device="cpu", **options))
        assert rt.vocoder_context == conv_reach_frames(bundle.graph("vocoder"))
        together = vocode(rt, rows_of(rt, lengths))
        alone = [
            np.asarray(rt.run("vocoder", {"latent": row.latent[None]}))[0]
            for row in rows_of(rt, lengths)
        ]
        for ours, theirs in zip(together, alone, strict=True):
            assert ours.shape == theirs.shape
            np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-5)


def test_the_vocoder_batches_rows_of_different_lengths(tiny_bundle: Bundle) -> None:
    """Shorter than the exact pass's window, longer, and the longest: one batch."""
    check_batched_vocoder(tiny_bundle, (1, 3, 4, 9, 23, 40))


def test_padding_reaches_only_the_last_frames(tiny_bundle: Bundle) -> None:
    """Why the exact pass: a row padded with zeros gets other audio in its last
    ``vocoder_context`` frames, and the same samples before them (to float rounding: the
    two shapes run differently blocked kernels)."""
    rt = Runtime(tiny_bundle, RuntimeOptions(device="cpu"))
    (row,) = rows_of(rt, (20,))
    alone = np.asarray(rt.run("vocoder", {"latent": row.latent[None]}))[0]
    padded = np.zeros((1, rt.latent_channels, 30), np.float32)
    padded[0, :, :20] = row.latent
    cut = np.asarray(rt.run("vocoder", {"latent": padded}))[0, : alone.shape[0]]
    per_frame = alone.shape[0] // 20
    edge = (20 - rt.vocoder_context) * per_frame
    assert rt.vocoder_context > 0
    np.testing.assert_allclose(cut[:edge], alone[:edge], rtol=0, atol=1e-6)
    assert np.abs(cut[edge:] - alone[edge:]).max() > 1e-3


@pytest.mark.skipif(os.environ.get("SUPERTONIC_TEST_FULL") != "1", reason="SUPERTONIC_TEST_FULL=1")
@pytest.mark.timeout(900)
def test_the_full_layouts_vocoder_batches_rows_of_different_lengths() -> None:
    """The full-size layout (real dimensions, random weights) reaches 10 frames."""
    bundle = verify_bundle(make_synthetic_bundle(synthetic_dir("full"), profile="full"))
    assert conv_reach_frames(bundle.graph("vocoder")) == 10
    check_batched_vocoder(bundle, (3, 19, 20, 47, 64))


def test_a_vocoder_that_is_not_length_local_runs_padded_rows_alone(tiny_bundle: Bundle) -> None:
    """A vocoder whose padding reaches a row's first frame (``vocoder_context`` None: say a
    global normalisation over time) gets no exact pass to rely on; padded rows run alone
    at their own lengths, and are still exact."""
    rt = Runtime(tiny_bundle, RuntimeOptions(device="cpu", buckets=True))
    rt.__dict__["vocoder_context"] = None  # as measured on such a graph
    lengths = (2, 9, 32)
    together = vocode(rt, rows_of(rt, lengths))
    for ours, row in zip(together, rows_of(rt, lengths), strict=True):
        alone = np.asarray(rt.run("vocoder", {"latent": row.latent[None]}))[0]
        np.testing.assert_allclose(ours, alone, rtol=0, atol=1e-6)
