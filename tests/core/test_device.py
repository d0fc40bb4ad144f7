"""The device path on the CPU provider: IO binding gives the host path's numbers, warm-up
visits every shape bucket, and CUDA graphs are refused where there is no CUDA."""

from __future__ import annotations

import numpy as np
import pytest
from supertonic_core import Engine
from supertonic_core.bundle import Bundle
from supertonic_core.chunk_request import ChunkRequest
from supertonic_core.errors import InvalidOptionError
from supertonic_core.runtime import Runtime, RuntimeOptions
from supertonic_core.shapes import EXACT
from supertonic_core.synthesis import Row, Stage, denoise, prepare, vocode, warm_up_buckets

TEXTS = (
    "Hi.",
    "Sure, I can help you with that today.",
    "The weather tomorrow looks mostly sunny, with a light breeze from the west.",
)


def requests(engine: Engine, steps: tuple[int, ...] = (2, 3, 5)) -> list[ChunkRequest]:
    """Rows of three lengths whose step counts differ, so rows leave the batch mid-way."""
    return [
        ChunkRequest(engine.front_end.encode(text, "en"), engine.style("F1"), 1.0, n, seed=i)
        for i, (text, n) in enumerate(zip(TEXTS, steps, strict=True))
    ]


def synthesize(rt: Runtime, engine: Engine, batch: list[ChunkRequest]) -> list[np.ndarray]:
    """Every stage over ``batch`` as one batch, the rows still denoising at each step."""
    rows = [Row(r) for r in batch]
    prepare(rt, rows, sample_rate=engine.sample_rate, frame=engine.bundle.samples_per_frame)
    while denoising := [r for r in rows if r.stage is Stage.DENOISE]:
        denoise(rt, denoising)
        assert all((r.bound is not None) == rt.io_binding for r in denoising)
    return vocode(rt, rows)


def assert_same_audio(ours: Runtime, theirs: Runtime, engine: Engine, *, atol: float) -> None:
    """Each row of :func:`requests` has audio of the same length and within ``atol`` from
    both runtimes."""
    for a, b in zip(
        synthesize(ours, engine, requests(engine)),
        synthesize(theirs, engine, requests(engine)),
        strict=True,
    ):
        assert a.shape == b.shape
        np.testing.assert_allclose(a, b, rtol=0, atol=atol)


def test_io_binding_gives_the_host_paths_numbers(tiny_bundle: Bundle, engine: Engine) -> None:
    host = Runtime(tiny_bundle, RuntimeOptions(device="cpu"))
    bound = Runtime(tiny_bundle, RuntimeOptions(device="cpu", io_binding=True))
    assert not host.io_binding and bound.io_binding
    assert_same_audio(bound, host, engine, atol=1e-6)


def test_a_row_leaving_its_bound_batch_takes_its_latent_back(
    tiny_bundle: Bundle, engine: Engine
) -> None:
    """A batch that changes between steps brings its rows' state to the host, and the
    remaining rows form a new batch; the results are each row's solo results."""
    rt = Runtime(tiny_bundle, RuntimeOptions(device="cpu", io_binding=True))
    rows = [Row(r) for r in requests(engine, (4, 4, 4))]
    prepare(rt, rows, sample_rate=engine.sample_rate, frame=engine.bundle.samples_per_frame)
    denoise(rt, rows)
    first = rows[0].bound
    denoise(rt, rows[1:])  # row 0 waits a step (a first chunk took the slot)
    assert rows[0].bound is None and rows[0].latent is not None
    assert rows[1].bound is not first and rows[1].bound is rows[2].bound
    denoise(rt, rows[:1])
    while rows[0].stage is Stage.DENOISE:
        denoise(rt, [r for r in rows if r.stage is Stage.DENOISE])
    solo = [synthesize(rt, engine, [r.request])[0] for r in rows]
    for ours, theirs in zip(vocode(rt, rows), solo, strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-5)


def test_on_the_cpu_the_device_path_is_opt_in(tiny_bundle: Bundle) -> None:
    rt = Runtime(tiny_bundle, RuntimeOptions(device="cpu"))
    assert rt.ort_device == ("cpu", 0)
    assert not rt.io_binding and rt.buckets == EXACT


def test_after_warm_up_the_hot_path_meets_no_new_shape(
    tiny_bundle: Bundle, monkeypatch: pytest.MonkeyPatch
) -> None:
    options = RuntimeOptions(device="cpu", io_binding=True, buckets=True)
    with Engine(tiny_bundle, runtime=options, max_batch=2) as eng:
        rt = eng.runtime
        seen: set[tuple[str, tuple[tuple[int, ...], ...]]] = set()
        run = rt.run

        def spy(graph: str, feeds: dict[str, np.ndarray]) -> object:
            seen.add((graph, tuple(tuple(v.shape) for v in feeds.values())))
            return run(graph, feeds)

        monkeypatch.setattr(rt, "run", spy)
        eng.warmup()
        visited = warm_up_buckets(
            rt,
            eng.style("F1"),
            max_batch=2,
            sample_rate=eng.sample_rate,
            frame=eng.bundle.samples_per_frame,
        )
        # batch sizes 1 and 2, every text and latent edge: one set of buffers each
        assert (
            visited
            == len(rt.device_path.by_shape)
            == 2 * len(rt.buckets.text) * len(rt.buckets.latent)
        )
        warm, shapes = set(seen), len(rt.device_path.by_shape)
        seen.clear()
        for text in (*TEXTS, "Okay. " + " ".join(TEXTS)):
            eng.synthesize(text)
        assert seen <= warm
        assert len(rt.device_path.by_shape) == shapes


def test_cuda_graphs_are_refused_without_cuda(tiny_bundle: Bundle) -> None:
    with pytest.raises(InvalidOptionError, match="cuda_graph needs an NVIDIA GPU"):
        RuntimeOptions(device="cpu", cuda_graph=True)
    with pytest.raises(InvalidOptionError, match="needs io_binding and buckets"):
        RuntimeOptions(device="cuda", cuda_graph=True, buckets=False)
    # auto finds no CUDA provider here and would run on the CPU
    with pytest.raises(InvalidOptionError, match="would run on CPUExecutionProvider"):
        Runtime(tiny_bundle, RuntimeOptions(device="auto", cuda_graph=True))


def test_cuda_graphs_are_a_provider_option() -> None:
    options = RuntimeOptions(device="cuda", cuda_graph=True)
    assert options.provider_options("CUDAExecutionProvider")["enable_cuda_graph"] == "1"
    assert options.provider_options("TensorrtExecutionProvider")["trt_cuda_graph_enable"] == "True"
    assert "enable_cuda_graph" not in RuntimeOptions(device="cuda").provider_options(
        "CUDAExecutionProvider"
    )
