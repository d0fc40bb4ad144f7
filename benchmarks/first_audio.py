"""First audio of agent replies in-process, and whether the voice then keeps playing.

For each reply (short openers followed by long sentences, as agents answer), one stream on
the ``full`` synthetic bundle: time to the first chunk, underruns and seconds of silence
when played in real time from the first chunk, chunk count and audio-seconds per
wall-second. Three arrangements: chunks sized by the listener's lead with every step, the
default (lead-sized, fast start: ``first_chunk_steps`` 4), and a phrase-cache hit (the same
reply again, cache on). (Until issue 23 an explicit seed kept a fixed split, short first
chunk then sentences, measured here as "fixed split"; a seed no longer changes the split.)

    uv run python benchmarks/first_audio.py [--steps 8] [--first-chunk-steps 4] [--repeats 3]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics

from common import OPENER_REPLIES, OTHER_REPLIES, Run, machine_and_bundle, pct, speak
from supertonic_core import Engine

REPLIES = OPENER_REPLIES + OTHER_REPLIES


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=8)
    parser.add_argument("--first-chunk-steps", type=int, default=4)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    bundle = machine_and_bundle("full")
    engine = Engine.load(model_dir=bundle, phrase_cache=256)
    engine.warmup()
    every_step = {"steps": args.steps, "first_chunk_steps": args.steps}
    arrangements = {
        "lead-sized": every_step,
        "fast start (default)": {"steps": args.steps, "first_chunk_steps": args.first_chunk_steps},
        "cache hit": {"steps": args.steps, "first_chunk_steps": args.first_chunk_steps},
    }
    runs: dict[str, dict[str, list[Run]]] = {name: {} for name in arrangements}

    async def measure() -> None:
        for _ in range(args.repeats):
            for text in REPLIES:
                for name, options in arrangements.items():
                    engine.phrase_cache.clear()  # empty: only "cache hit" hits
                    if name == "cache hit":
                        await speak(engine, text, **options)  # fills the cache
                    runs[name].setdefault(text, []).append(await speak(engine, text, **options))

    asyncio.run(measure())
    engine.close()

    names = list(arrangements)
    print(f"\nsteps {args.steps}, fast start {args.first_chunk_steps} steps on the first chunk")
    print("median of", args.repeats, "runs per reply\n")
    print("| reply | " + " | ".join(f"{n}: first audio s (underruns)" for n in names) + " |")
    print("|---|" + "---|" * len(names))
    for text in REPLIES:
        cells = []
        for name in names:
            rs = runs[name][text]
            cells.append(
                f"{statistics.median(r.first_s for r in rs):.2f} ({max(r.underruns for r in rs)})"
            )
        print(f"| {text[:40]}… | " + " | ".join(cells) + " |")
    print(
        "\n| arrangement | first audio p50 s | p95 s | underruns | silence s | chunks | audio-s per wall-s |"
    )
    print("|---|---|---|---|---|---|---|")
    for name in names:
        every = [r for rs in runs[name].values() for r in rs]
        firsts = [r.first_s for r in every]
        audio = sum(r.audio_s for r in every)
        wall = sum(r.wall_s for r in every)
        print(
            f"| {name} | {pct(firsts, 0.5):.2f} | {pct(firsts, 0.95):.2f} | "
            f"{sum(r.underruns for r in every)} | {sum(r.gap_s for r in every):.2f} | "
            f"{sum(r.chunks for r in every)} | {audio / wall:.2f} |"
        )


if __name__ == "__main__":
    main()
