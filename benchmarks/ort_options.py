"""ONNX Runtime session options on the hot path: which ones shorten a denoising step?

On the ``full`` synthetic bundle, one session with every core, it times the calls a first
chunk is made of (a short chunk: "Sure.", and a typical one: ~3 s of speech) under each
variant, alternating variants round by round so drift in the machine's load hits all
alike, and times session start-up with and without a saved optimised graph. Then a whole
chunk across the four graphs (durations, text encoder, the denoising steps, vocoder) under
three arrangements of thread spinning, since each session's threads spin after its calls
while the next graph runs. The vocoder is also checked for locality: how much right
context a prefix needs to equal the same slice of the whole (the condition for vocoding a
chunk in pieces).

    uv run python benchmarks/ort_options.py [--rounds 5]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import onnxruntime as ort
from common import machine_and_bundle

SHAPES = {"short (0.8 s)": (14, 11), "typical (3 s)": (60, 43)}  # (T ids, L frames)


def options(**entries: str) -> ort.SessionOptions:
    so = ort.SessionOptions()
    so.log_severity_level = 3
    for key, value in entries.items():
        if key == "mem_pattern":
            so.enable_mem_pattern = value == "1"
        elif key == "arena":
            so.enable_cpu_mem_arena = value == "1"
        else:
            so.add_session_config_entry(key, value)
    return so


VARIANTS: dict[str, Callable[[], ort.SessionOptions]] = {
    "defaults (spinning, arena, memory patterns)": options,
    "no thread spinning": lambda: options(**{"session.intra_op.allow_spinning": "0"}),
    "no memory patterns": lambda: options(mem_pattern="0"),
    "no CPU arena": lambda: options(arena="0"),
}


def feeds(t: int, frames: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    return {
        "noisy_latent": rng.standard_normal((1, 144, frames), dtype=np.float32),
        "text_emb": rng.standard_normal((1, 256, t), dtype=np.float32),
        "style_ttl": rng.standard_normal((1, 50, 256), dtype=np.float32),
        "text_mask": np.ones((1, 1, t), dtype=np.float32),
        "latent_mask": np.ones((1, 1, frames), dtype=np.float32),
        "current_step": np.zeros(1, dtype=np.float32),
        "total_step": np.full(1, 8, dtype=np.float32),
    }


def step_ms(sess: ort.InferenceSession, inputs: dict[str, np.ndarray], calls: int = 5) -> float:
    sess.run(None, inputs)
    times = []
    for _ in range(calls):
        started = time.perf_counter()
        sess.run(None, inputs)
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def io_binding_ms(sess: ort.InferenceSession, inputs: dict[str, np.ndarray]) -> float:
    """The same call through IO binding (inputs bound once, output left to the session)."""
    binding = sess.io_binding()
    for name, value in inputs.items():
        binding.bind_cpu_input(name, value)
    binding.bind_output(sess.get_outputs()[0].name)
    sess.run_with_iobinding(binding)
    times = []
    for _ in range(5):
        started = time.perf_counter()
        sess.run_with_iobinding(binding)
        binding.copy_outputs_to_cpu()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


#: Which graphs' operator threads spin between calls, per arrangement.
SPINNING = {
    "every graph spins (ONNX Runtime's default)": {
        "duration_predictor",
        "text_encoder",
        "vector_estimator",
        "vocoder",
    },
    "no graph spins": set(),
    "only the vector estimator spins (ours)": {"vector_estimator"},
}


def chunk_sessions(bundle: Path, spinning: set[str]) -> dict[str, ort.InferenceSession]:
    sessions = {}
    for graph in ("duration_predictor", "text_encoder", "vector_estimator", "vocoder"):
        so = options() if graph in spinning else options(**{"session.intra_op.allow_spinning": "0"})
        path = str(bundle / "onnx" / f"{graph}.onnx")
        sessions[graph] = ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])
    return sessions


def chunk_ms(sessions: dict[str, ort.InferenceSession], t: int, frames: int, steps: int) -> float:
    """One chunk's calls in the engine's order, as one stream alone makes them."""
    text = {
        "text_ids": np.full((1, t), 5, dtype=np.int64),
        "text_mask": np.ones((1, 1, t), np.float32),
    }
    denoise = feeds(t, frames)
    started = time.perf_counter()
    sessions["duration_predictor"].run(None, {**text, "style_dp": np.zeros((1, 8, 16), np.float32)})
    sessions["text_encoder"].run(None, {**text, "style_ttl": denoise["style_ttl"]})
    for step in range(steps):
        sessions["vector_estimator"].run(
            None, {**denoise, "current_step": np.full(1, step, np.float32)}
        )
    sessions["vocoder"].run(None, {"latent": denoise["noisy_latent"]})
    return (time.perf_counter() - started) * 1000


def startup(bundle: Path) -> tuple[float, float, float]:
    """Seconds to create the four sessions: optimising at load; saving the optimised graph;
    loading the saved graph with optimisation off."""
    graphs = sorted((bundle / "onnx").glob("*.onnx"))

    def load(make: Callable[[Path], ort.SessionOptions], source: Callable[[Path], Path]) -> float:
        started = time.perf_counter()
        for graph in graphs:
            ort.InferenceSession(
                str(source(graph)), make(graph), providers=["CPUExecutionProvider"]
            )
        return time.perf_counter() - started

    with tempfile.TemporaryDirectory() as cache:

        def saving(graph: Path) -> ort.SessionOptions:
            so = options()
            so.optimized_model_filepath = str(Path(cache) / graph.name)
            return so

        def cached(_graph: Path) -> ort.SessionOptions:
            so = options()
            so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
            return so

        plain = load(lambda g: options(), lambda g: g)
        saved = load(saving, lambda g: g)
        reused = load(cached, lambda g: Path(cache) / g.name)
    return plain, saved, reused


def vocoder_context(bundle: Path) -> list[tuple[int, float]]:
    sess = ort.InferenceSession(
        str(bundle / "onnx" / "vocoder.onnx"), options(), providers=["CPUExecutionProvider"]
    )
    latent = np.random.default_rng(0).standard_normal((1, 144, 60), dtype=np.float32)
    whole = sess.run(None, {"latent": latent})[0][0]
    out = []
    for context in (0, 2, 4, 8, 12, 16):
        part = sess.run(None, {"latent": latent[:, :, : 20 + context]})[0][0]
        out.append((context, float(np.abs(part[: 20 * 3072] - whole[: 20 * 3072]).max())))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    bundle = machine_and_bundle("full")
    path = str(bundle / "onnx" / "vector_estimator.onnx")
    sessions = {
        name: ort.InferenceSession(path, make(), providers=["CPUExecutionProvider"])
        for name, make in VARIANTS.items()
    }
    results: dict[tuple[str, str], list[float]] = {}
    for _ in range(args.rounds):
        for shape, (t, frames) in SHAPES.items():
            inputs = feeds(t, frames)
            for name, sess in sessions.items():
                results.setdefault((name, shape), []).append(step_ms(sess, inputs))
            results.setdefault(("IO binding (defaults)", shape), []).append(
                io_binding_ms(sessions[next(iter(VARIANTS))], inputs)
            )
    names = [*VARIANTS, "IO binding (defaults)"]
    print("\n| one denoising step, median ms | " + " | ".join(SHAPES) + " |")
    print("|---|" + "---|" * len(SHAPES))
    for name in names:
        cells = [f"{statistics.median(results[(name, shape)]):.1f}" for shape in SHAPES]
        print(f"| {name} | " + " | ".join(cells) + " |")
    arrangements = {name: chunk_sessions(bundle, graphs) for name, graphs in SPINNING.items()}
    chunks: dict[tuple[str, str], list[float]] = {}
    cases = [(shape, steps) for shape in SHAPES for steps in (4, 8)]
    for _ in range(args.rounds):
        for name, sessions in arrangements.items():
            for shape, steps in cases:
                t, frames = SHAPES[shape]
                chunks.setdefault((name, f"{shape}, {steps} steps"), []).append(
                    chunk_ms(sessions, t, frames, steps)
                )
    columns = [f"{shape}, {steps} steps" for shape, steps in cases]
    print("\n| one whole chunk, median ms | " + " | ".join(columns) + " |")
    print("|---|" + "---|" * len(columns))
    for name in arrangements:
        cells = [f"{statistics.median(chunks[(name, c)]):.0f}" for c in columns]
        print(f"| {name} | " + " | ".join(cells) + " |")
    plain, saved, reused = startup(bundle)
    print("\n| start-up of the four sessions | s |\n|---|---|")
    print(f"| optimised at load (today) | {plain:.2f} |")
    print(f"| optimised and saved | {saved:.2f} |")
    print(f"| saved graph, optimisation off | {reused:.2f} |")
    print("\n| vocoder: right context (frames) of a 20-frame prefix | max abs difference |")
    print("|---|---|")
    for context, err in vocoder_context(bundle):
        print(f"| {context} | {err:.1e} |")


if __name__ == "__main__":
    main()
