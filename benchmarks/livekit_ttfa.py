"""LiveKit plugin: time to first audio frame, in-process against remote.

Time to first audio (TTFA) is measured the way an agent feels it: from the moment the
text is handed to the plugin to the first ``SynthesizedAudio`` frame coming out of it,
through LiveKit's own ``AudioEmitter``. Two call shapes per backend:

- ``stream()``: the text pushed in two-word pieces (as an LLM streams it, all at once),
  then ``end_input()``: what ``AgentSession`` does for every reply;
- ``synthesize()``: the whole text at once (``ChunkedStream``).

The in-process backend runs the engine in this process; the remote one talks to a
``supertonic-server`` subprocess on 127.0.0.1 through the plugin's WebSocket pool (the
socket is prewarmed, as ``AgentSession`` does with ``prewarm()``). Both load the ``full``
synthetic bundle (real dimensions, random weights: the real model's compute, not its
voice), built once and cached. Both stay up; each text goes to one backend and then the
other, so load from elsewhere on the machine weighs on both alike, and each reply is
interrupted after its first frame (a barge-in), so no synthesis overlaps the next one.

    uv run python benchmarks/livekit_ttfa.py [--profile full] [--steps 8] [--repeats 2]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import re
import signal
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx
from livekit.plugins import supertonic
from supertonic_core.bundle import synthetic_dir
from supertonic_core.synthetic import make_synthetic_bundle

TEXTS = [
    "Hello there.",
    "Sure, I can help you with that.",
    "Your appointment is confirmed for Tuesday at three in the afternoon.",
    "I found three flights that match. The cheapest one leaves at seven in the morning.",
    "Before we continue, could you please confirm the last four digits of your card? "
    "It is the number printed on the front.",
    "The weather tomorrow looks mostly sunny, with a light breeze from the west. Highs will "
    "reach twenty-two degrees, and the evening should stay dry.",
]
SHAPES = ("stream", "synthesize")


def pieces(text: str) -> list[str]:
    words = re.findall(r"\S+\s*", text)
    return ["".join(words[i : i + 2]) for i in range(0, len(words), 2)]


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# ----------------------------------------------------------------------------- measuring


async def ttfa(tts: supertonic.TTS, shape: str, text: str) -> float:
    """Seconds from handing over the text to the first audio frame. The reply is then
    interrupted (as a barge-in would), so the next one starts on an idle engine."""
    started = time.perf_counter()
    if shape == "stream":
        async with tts.stream() as stream:
            for piece in pieces(text):
                stream.push_text(piece)
            stream.end_input()
            await anext(stream)
            return time.perf_counter() - started
    async with tts.synthesize(text) as chunked:
        await anext(chunked)
        return time.perf_counter() - started


async def wait_ready(base: str, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 600
    async with httpx.AsyncClient() as client:
        while True:
            try:
                if (await client.get(f"{base}/readyz")).status_code == 200:
                    return
            except httpx.ConnectError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit("the server did not become ready")
            await asyncio.sleep(0.2)


async def run(bundle: Path, steps: int, repeats: int) -> dict[str, dict[str, list[float]]]:
    """Both backends up at once; each text goes to one, then the other (order alternating),
    so background load on the machine weighs on both alike. Only one synthesizes at a time."""
    port = free_port()
    log = open(os.devnull, "w")  # noqa: SIM115 - lives as long as the subprocess
    proc = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "supertonic-server"),
            "--model-dir",
            str(bundle),
            "--port",
            str(port),
            "--total-steps",
            str(steps),
            "--log-level",
            "warning",
            "--no-ui",
        ],
        stdout=log,
        stderr=log,
    )
    base = f"http://127.0.0.1:{port}"
    backends = {
        "in-process": supertonic.TTS(model_dir=bundle, steps=steps),
        "remote": supertonic.TTS(base_url=base, steps=steps),
    }
    results = {name: {shape: [] for shape in SHAPES} for name in backends}
    try:
        await backends["in-process"]._backend.connect()  # load and warm up (prewarm() does it)
        await wait_ready(base, proc)
        backends["remote"].prewarm()  # a pooled socket, as AgentSession's prewarm opens
        for tts in backends.values():
            await ttfa(tts, "stream", "Warming up the path once.")  # not counted
        turn = 0
        for _ in range(repeats):
            for text in TEXTS:
                for shape in SHAPES:
                    order = list(backends) if turn % 2 == 0 else list(reversed(backends))
                    turn += 1
                    for name in order:
                        results[name][shape].append(await ttfa(backends[name], shape, text) * 1000)
    finally:
        for tts in backends.values():
            await tts.aclose()
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
    return results


# ----------------------------------------------------------------------------- report


def report(
    local: dict[str, list[float]], remote: dict[str, list[float]], args: argparse.Namespace
) -> str:
    n = len(local["stream"])
    lines = [
        f"{n} replies per row ({len(TEXTS)} texts x {args.repeats}), {args.profile} synthetic "
        f"bundle, steps={args.steps}, voice F1, 44.1 kHz out; TTFA = text handed over -> first "
        "LiveKit audio frame",
        "",
        "| backend | call | TTFA p50 | TTFA p90 | min | max |",
        "|---|---|---|---|---|---|",
    ]
    for name, results in (("in-process", local), ("remote (WebSocket)", remote)):
        for shape in SHAPES:
            v = results[shape]
            lines.append(
                f"| {name} | {shape}() | {pct(v, 0.5):.0f} ms | {pct(v, 0.9):.0f} ms "
                f"| {min(v):.0f} ms | {max(v):.0f} ms |"
            )
    lines.append("")
    for shape in SHAPES:
        extra = [r - x for r, x in zip(remote[shape], local[shape], strict=True)]
        lines.append(
            f"remote minus in-process, {shape}(): p50 {pct(extra, 0.5):+.0f} ms, "
            f"p90 {pct(extra, 0.9):+.0f} ms, mean {statistics.mean(extra):+.1f} ms "
            "(same text, paired)"
        )
    lines += [
        "",
        "| text | chars | in-process stream() | remote stream() | in-process synthesize() "
        "| remote synthesize() |",
        "|---|---|---|---|---|---|",
    ]
    for i, text in enumerate(TEXTS):  # medians over the repeats
        cells = [
            statistics.median(results[shape][i :: len(TEXTS)])
            for shape in SHAPES
            for results in (local, remote)
        ]
        lines.append(
            f"| {i + 1} | {len(text)} | " + " | ".join(f"{c:.0f} ms" for c in cells) + " |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--profile", choices=("tiny", "full"), default="full")
    parser.add_argument("--steps", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, python {platform.python_version()}"
    )
    print(f"building/using the {args.profile} synthetic bundle ...", flush=True)
    bundle = make_synthetic_bundle(synthetic_dir(args.profile), profile=args.profile)
    print("loading both backends, then measuring ...", flush=True)
    load_before = os.getloadavg()[0]
    results = asyncio.run(run(bundle, args.steps, args.repeats))
    print()
    print(report(results["in-process"], results["remote"], args))
    print(f"\n1-minute load average: {load_before:.1f} before, {os.getloadavg()[0]:.1f} after")


if __name__ == "__main__":
    main()
