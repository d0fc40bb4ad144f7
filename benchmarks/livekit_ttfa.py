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
import statistics
import time
from pathlib import Path

from common import REPLIES as TEXTS
from common import ServerProcess, free_port, latency_args, machine_and_bundle, pct
from common import two_word_pieces as pieces
from livekit.plugins import supertonic

SHAPES = ("stream", "synthesize")


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


async def run(bundle: Path, steps: int, repeats: int) -> dict[str, dict[str, list[float]]]:
    """Both backends up at once; each text goes to one, then the other (order alternating),
    so background load on the machine weighs on both alike. Only one synthesizes at a time."""
    port = free_port()
    server = ServerProcess(port, "--total-steps", str(steps), "--no-ui", bundle=bundle)
    base = server.url
    backends = {
        "in-process": supertonic.TTS(model_dir=bundle, steps=steps),
        "remote": supertonic.TTS(base_url=base, steps=steps),
    }
    results = {name: {shape: [] for shape in SHAPES} for name in backends}
    try:
        await backends["in-process"]._backend.connect()  # load and warm up (prewarm() does it)
        await asyncio.to_thread(server.wait_ready)
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
        server.stop()
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
    args = latency_args(__doc__, repeats=2)
    bundle = machine_and_bundle(args.profile)
    print("loading both backends, then measuring ...", flush=True)
    load_before = os.getloadavg()[0]
    results = asyncio.run(run(bundle, args.steps, args.repeats))
    print()
    print(report(results["in-process"], results["remote"], args))
    print(f"\n1-minute load average: {load_before:.1f} before, {os.getloadavg()[0]:.1f} after")


if __name__ == "__main__":
    main()
