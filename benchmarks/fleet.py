"""A fleet that survives a bad day: replicas behind HAProxy, killed and restarted while
agents speak, and not a word lost.

Starts three ``supertonic-server`` replicas on 127.0.0.1 and HAProxy in front of them with
``deploy/haproxy/haproxy.cfg`` (its ports rewritten to free ones), then runs 16 agent
conversations through the balancer: 8 LiveKit remote TTS streams and 8 Pipecat
``SupertonicServerTTSService`` pipelines, saying agent-shaped replies (a short opener, then
longer sentences; LiveKit's streamed as two-word tokens) one after another for
``--seconds``. Meanwhile it SIGKILLs a random replica at ``--kills`` random moments
(restarting it a moment later) and, halfway, restarts every replica in turn with SIGTERM
(a rolling restart). Every loop is bounded in count and time; all traffic is on loopback.

Per reply, the words the agent heard (LiveKit's aligned transcript, Pipecat's word
frames) are aligned with the words it sent: words lost, words repeated. It reports
utterances started and completed, those totals, the time from a lost connection to audio
again (p50/p95, from the plugins' resumable contexts) and the errors surfaced to the agent.

    uv run python benchmarks/fleet.py [--seconds 120] [--kills 5] [--profile tiny]
"""

from __future__ import annotations

import argparse
import asyncio
import difflib
import random
import re
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from common import REPLIES, ServerProcess, free_port, machine_and_bundle, pct, two_word_pieces
from livekit.agents import APIConnectOptions
from livekit.agents.types import USERDATA_TIMED_TRANSCRIPT
from livekit.plugins import supertonic as lk_supertonic
from loguru import logger
from pipecat.frames.frames import ErrorFrame, TTSSpeakFrame, TTSTextFrame
from pipecat.pipeline.worker import PipelineParams
from pipecat.tests.utils import run_test
from pipecat_supertonic import SupertonicServerTTSService
from supertonic_core import resume

CONFIG = Path(__file__).resolve().parents[1] / "deploy" / "haproxy" / "haproxy.cfg"


@dataclass
class Tally:
    started: int = 0
    completed: int = 0
    words: int = 0
    lost: int = 0
    repeated: int = 0
    errors: list[str] = field(default_factory=list)

    def heard(self, sent: str, heard: list[str]) -> None:
        """Align what was heard with what was sent: deletions lost, insertions repeated."""
        want = sent.split()
        self.words += len(want)
        for tag, a0, a1, b0, b1 in difflib.SequenceMatcher(a=want, b=heard).get_opcodes():
            if tag in ("delete", "replace"):
                self.lost += a1 - a0
            if tag in ("insert", "replace"):
                self.repeated += b1 - b0


class Replica:
    def __init__(self, port: int, bundle: Path) -> None:
        self.port, self.bundle = port, bundle
        self.server: ServerProcess | None = None

    def start(self) -> None:
        self.server = ServerProcess(
            self.port, "--no-warmup", "--shutdown-grace", "10", bundle=self.bundle
        )
        self.server.wait_ready(120)

    def kill(self) -> None:
        if self.server is not None:
            self.server.stop(signal.SIGKILL)

    def restart(self) -> None:
        """SIGTERM (drain, exit), then start again."""
        if self.server is not None:
            self.server.stop(signal.SIGTERM)
        self.start()


def haproxy(ports: list[int], bind: int, folder: Path) -> subprocess.Popen[bytes]:
    text = CONFIG.read_text().replace("bind 127.0.0.1:8000", f"bind 127.0.0.1:{bind}")
    for n, port in enumerate(ports, 1):
        text = text.replace(f"127.0.0.1:800{n}", f"127.0.0.1:{port}")
    (folder / "haproxy.cfg").write_text(text)
    proc = subprocess.Popen(["haproxy", "-f", str(folder / "haproxy.cfg")])
    deadline = time.monotonic() + 30
    while True:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", bind)) == 0:
                return proc
        if time.monotonic() > deadline or proc.poll() is not None:
            raise SystemExit("haproxy did not start")
        time.sleep(0.1)


def replies(rng: random.Random) -> list[str]:
    return [REPLIES[0], *rng.sample(REPLIES[1:], 3)]


async def livekit_agent(url: str, deadline: float, tally: Tally, rng: random.Random) -> None:
    tts = lk_supertonic.TTS(base_url=url)
    options = APIConnectOptions(max_retry=0, timeout=30)
    try:
        while time.monotonic() < deadline:
            for reply in replies(rng):
                tally.started += 1
                heard: list[str] = []
                try:
                    async with asyncio.timeout(90):
                        stream = tts.stream(conn_options=options)
                        for piece in two_word_pieces(reply):
                            stream.push_text(piece)
                        stream.end_input()
                        async for event in stream:
                            words = event.frame.userdata.get(USERDATA_TIMED_TRANSCRIPT, [])
                            heard += "".join(words).split()
                        await stream.aclose()
                    tally.completed += 1
                except Exception as exc:  # an error the agent would see
                    tally.errors.append(f"livekit: {type(exc).__name__}: {exc}"[:200])
                tally.heard(reply, heard)
    finally:
        await tts.aclose()


async def pipecat_agent(url: str, deadline: float, tally: Tally, rng: random.Random) -> None:
    params = PipelineParams(audio_out_sample_rate=24000)
    while time.monotonic() < deadline:
        said = replies(rng)
        tally.started += len(said)
        tts = SupertonicServerTTSService(url=url.replace("http", "ws"), reconnect_backoff_s=0.2)
        try:
            async with asyncio.timeout(180):
                down, up = await run_test(
                    tts, frames_to_send=[TTSSpeakFrame(r) for r in said], pipeline_params=params
                )
        except Exception as exc:
            tally.errors.append(f"pipecat: {type(exc).__name__}: {exc}"[:200])
            for reply in said:
                tally.heard(reply, [])
            continue
        tally.errors += [f"pipecat: {f.error}"[:200] for f in up if isinstance(f, ErrorFrame)]
        by_turn: dict[str, list[str]] = {}
        for frame in down:
            if isinstance(frame, TTSTextFrame):
                by_turn.setdefault(frame.context_id or "", []).append(frame.text)
        turns = list(by_turn.values())
        for n, reply in enumerate(said):
            heard = turns[n] if n < len(turns) else []
            tally.completed += bool(heard)
            tally.heard(reply, heard)


async def chaos(
    replicas: list[Replica], kills: int, seconds: float, rng: random.Random
) -> list[str]:
    """SIGKILL a random replica at ``kills`` random moments (restarted 2 s later), and a
    rolling restart (SIGTERM each in turn) halfway."""
    log: list[str] = []
    start = time.monotonic()
    moments = sorted(rng.uniform(5, seconds - 10) for _ in range(kills))
    rolling_at = seconds / 2
    for at in [*moments, rolling_at]:
        await asyncio.sleep(max(0.0, start + at - time.monotonic()))
        if at is rolling_at and rolling_at not in moments:
            for replica in replicas:
                await asyncio.to_thread(replica.restart)
            log.append(f"{time.monotonic() - start:5.1f} s: rolling restart done")
            continue
        victim = rng.choice(replicas)
        victim.kill()
        log.append(f"{time.monotonic() - start:5.1f} s: SIGKILL replica on {victim.port}")
        await asyncio.sleep(2)
        await asyncio.to_thread(victim.start)
    return log


async def run(
    url: str, replicas: list[Replica], args: argparse.Namespace
) -> tuple[Tally, Tally, list[str]]:
    rng = random.Random(args.seed)
    deadline = time.monotonic() + args.seconds
    lk, pc = Tally(), Tally()
    agents = [livekit_agent(url, deadline, lk, random.Random(rng.random())) for _ in range(8)]
    agents += [pipecat_agent(url, deadline, pc, random.Random(rng.random())) for _ in range(8)]
    log, *_ = await asyncio.gather(chaos(replicas, args.kills, args.seconds, rng), *agents)
    return lk, pc, log


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=120)
    parser.add_argument("--kills", type=int, default=5)
    parser.add_argument("--profile", choices=("tiny", "full"), default="tiny")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    bundle = machine_and_bundle(args.profile)
    logger.remove()  # Pipecat's debug lines
    logger.add(lambda message: print(message, end=""), level="WARNING")
    contexts: list[resume.ResumableContext] = []
    original_init = resume.ResumableContext.__init__

    def recorded(self: resume.ResumableContext, *a: object, **kw: object) -> None:
        original_init(self, *a, **kw)  # type: ignore[arg-type]
        contexts.append(self)

    resume.ResumableContext.__init__ = recorded  # type: ignore[method-assign]
    replicas = [Replica(free_port(), bundle) for _ in range(3)]
    for replica in replicas:
        replica.start()
    bind = free_port()
    with tempfile.TemporaryDirectory() as folder:
        balancer = haproxy([r.port for r in replicas], bind, Path(folder))
        try:
            lk, pc, log = asyncio.run(run(f"http://127.0.0.1:{bind}", replicas, args))
        finally:
            balancer.kill()
            for replica in replicas:
                replica.kill()
    gaps = [g for ctx in contexts for g in ctx.resumes]
    print("\nfailures:", *log, sep="\n  ")
    print(
        "\n| agents | utterances started | completed | words sent | lost | repeated | errors surfaced |"
    )
    print("|---|---|---|---|---|---|---|")
    for name, t in (("LiveKit ×8", lk), ("Pipecat ×8", pc)):
        print(
            f"| {name} | {t.started} | {t.completed} | {t.words} | {t.lost} | {t.repeated} | {len(t.errors)} |"
        )
    if gaps:
        print(
            f"\nresumed: {len(gaps)} utterances; loss → audio again p50 {pct(gaps, 0.5):.3f} s, "
            f"p95 {pct(gaps, 0.95):.3f} s, max {max(gaps):.3f} s"
        )
    for error in [*lk.errors, *pc.errors][:10]:
        print("  error:", re.sub(r"\s+", " ", error))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
