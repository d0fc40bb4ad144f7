"""One ONNX session with every core, or several sessions with fewer threads each?

Runs denoising steps of a ~3 s chunk (the vector estimator is ~85% of the work) on the
``full`` synthetic bundle for a fixed wall time in each arrangement and prints the steps
per second and the latency of one step. The scheduler uses one worker; this is the
measurement behind that choice.

    uv run python benchmarks/threads.py [--seconds 10]
"""

from __future__ import annotations

import argparse
import os
import statistics
import threading
import time

import numpy as np
import onnxruntime as ort
from supertonic_core.bundle import synthetic_dir
from supertonic_core.synthetic import make_synthetic_bundle

T, L = 60, 43  # a ~50-character chunk: ~3 s of audio


def session(path: str, threads: int) -> ort.InferenceSession:
    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    so.log_severity_level = 3
    return ort.InferenceSession(path, sess_options=so, providers=["CPUExecutionProvider"])


def feeds(batch: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    return {
        "noisy_latent": rng.standard_normal((batch, 144, L), dtype=np.float32),
        "text_emb": rng.standard_normal((batch, 256, T), dtype=np.float32),
        "style_ttl": rng.standard_normal((batch, 50, 256), dtype=np.float32),
        "text_mask": np.ones((batch, 1, T), dtype=np.float32),
        "latent_mask": np.ones((batch, 1, L), dtype=np.float32),
        "current_step": np.zeros(batch, dtype=np.float32),
        "total_step": np.full(batch, 8, dtype=np.float32),
    }


def run(
    sessions: list[ort.InferenceSession], seconds: float, batch: int = 1
) -> tuple[float, float]:
    """Each session in its own thread, stepping until time is up; returns (rows/s, median step s)."""
    inputs = feeds(batch)
    latencies: list[float] = []
    counts = [0] * len(sessions)
    stop = time.perf_counter() + seconds

    def worker(i: int, sess: ort.InferenceSession) -> None:
        while time.perf_counter() < stop:
            started = time.perf_counter()
            sess.run(None, inputs)
            latencies.append(time.perf_counter() - started)
            counts[i] += batch

    threads = [threading.Thread(target=worker, args=(i, s)) for i, s in enumerate(sessions)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(counts) / (time.perf_counter() - started), statistics.median(latencies)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()
    cores = os.cpu_count() or 1
    path = str(
        make_synthetic_bundle(synthetic_dir("full"), profile="full") / "onnx/vector_estimator.onnx"
    )
    arrangements = [
        (f"1 session x {cores} threads", [session(path, cores)], 1),
        ("1 session x 1 thread", [session(path, 1)], 1),
        (f"{cores} sessions x 1 thread, in parallel", [session(path, 1) for _ in range(cores)], 1),
        (f"1 session x {cores} threads, batch 4", [session(path, cores)], 4),
    ]
    if cores >= 4:
        arrangements.insert(
            3,
            (
                f"2 sessions x {cores // 2} threads",
                [session(path, cores // 2) for _ in range(2)],
                1,
            ),
        )
    run(arrangements[0][1], 2.0)  # warm up
    print(
        f"\nvector estimator, T={T}, L={L} (~3 s chunk), {cores} cores, {args.seconds:g} s each\n"
    )
    print("| arrangement | rows·steps per s | median latency of one call (ms) |")
    print("|---|---|---|")
    for name, sessions, batch in arrangements:
        rate, latency = run(sessions, args.seconds, batch)
        print(f"| {name} | {rate:.2f} | {latency * 1000:.0f} |")


if __name__ == "__main__":
    main()
