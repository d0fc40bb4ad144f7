"""What the benchmark scripts share: agent replies, percentiles, one in-process reply
measured as a listener hears it, and a server subprocess.

The scripts run as ``uv run python benchmarks/X.py``, so this folder is on ``sys.path`` and
they import from here with ``from common import ...``.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
from supertonic_core import Engine
from supertonic_core.bundle import synthetic_dir
from supertonic_core.synthetic import make_synthetic_bundle

#: Agent replies from a greeting to a few sentences, the same set in every latency table.
REPLIES = [
    "Hello there.",
    "Sure, I can help you with that.",
    "Your appointment is confirmed for Tuesday at three in the afternoon.",
    "I found three flights that match. The cheapest one leaves at seven in the morning.",
    "Before we continue, could you please confirm the last four digits of your card? "
    "It is the number printed on the front.",
    "The weather tomorrow looks mostly sunny, with a light breeze from the west. Highs will "
    "reach twenty-two degrees, and the evening should stay dry.",
]


#: Agent replies as agents answer: a short opener, then long sentences.
OPENER_REPLIES = [
    "Sure. I found three flights that match: one leaves at seven in the morning, one at "
    "noon, and the last one late in the evening.",
    "Hello there! How can I help you today?",
    "Got it. I have moved your appointment to Thursday at four, and you will get a "
    "confirmation by text message in a few minutes.",
    "Of course. The package left our warehouse yesterday evening and should reach you by "
    "Friday; I will send the tracking link to your email now.",
    "Okay. Let me check that for you.",
    "Absolutely! Your table for four is booked for eight o'clock tonight, and we have noted "
    "that one guest needs a high chair.",
]
OTHER_REPLIES = [
    "Your appointment is confirmed for Tuesday at three in the afternoon.",
    "Before we continue, could you please confirm the last four digits of your card? It is "
    "the number printed on the front.",
    "The weather tomorrow looks mostly sunny, with a light breeze from the west. Highs will "
    "reach twenty-two degrees, and the evening should stay dry. On Sunday, expect clouds in "
    "the morning and a chance of showers after lunch, so take an umbrella if you go out.",
]


def pct(values: list[float], q: float) -> float:
    """The ``q`` quantile of ``values``: the nearest rank, no interpolation."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


@dataclass
class Run:
    """One reply as its listener heard it (played in real time from the first chunk)."""

    first_s: float
    underruns: int
    gap_s: float
    chunks: int
    audio_s: float
    wall_s: float


async def speak(engine: Engine, text: str, **options: object) -> Run:
    """Speak ``text`` on one stream of ``engine`` in-process; the underruns are the
    scheduler's own playback clock of the stream."""
    stream = engine.open_stream(engine.options(**options))
    stream.add_text(text)
    stream.end()
    started = time.perf_counter()
    first = None
    chunks = 0
    async with stream:
        async for _chunk in stream:
            if first is None:
                first = time.perf_counter() - started
                place = stream.place  # the scheduler's record of its playout: gone at close
            chunks += 1
        wall = time.perf_counter() - started
        assert first is not None and place is not None, "no audio"
        playback = engine.scheduler.listener(place)
    return Run(first, playback.underruns, playback.underrun_s, chunks, playback.audio_s, wall)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def two_word_pieces(text: str) -> list[str]:
    """``text`` in two-word pieces (trailing spaces kept), as an LLM streams a reply."""
    words = re.findall(r"\S+\s*", text)
    return ["".join(words[i : i + 2]) for i in range(0, len(words), 2)]


def synthetic_bundle(profile: str = "full") -> Path:
    """The synthetic bundle of ``profile`` (real dimensions, random weights), built once and
    cached: the one ``--synthetic PROFILE`` serves."""
    return make_synthetic_bundle(synthetic_dir(profile), profile=profile)


def latency_args(doc: str, *, repeats: int) -> argparse.Namespace:
    """The command line of the latency scripts: ``--profile``, ``--steps``, ``--repeats``."""
    parser = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    parser.add_argument("--profile", choices=("tiny", "full"), default="full")
    parser.add_argument("--steps", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=repeats)
    return parser.parse_args()


def machine_and_bundle(profile: str) -> Path:
    """Prints where the numbers are taken, then builds (or finds) the synthetic bundle."""
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, python {platform.python_version()}"
    )
    print(f"building/using the {profile} synthetic bundle ...", flush=True)
    return synthetic_bundle(profile)


# ----------------------------------------------------------------------------- server


class HttpProcess:
    """A server command on 127.0.0.1:``port``, launched at once; ready after
    :meth:`wait_ready` (``GET health`` says 200). Its output is kept for the error."""

    def __init__(
        self,
        cmd: list[str],
        port: int,
        *,
        health: str = "/readyz",
        env: dict[str, str] | None = None,
        cwd: Path | None = None,
    ) -> None:
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self._health = health
        self._log = tempfile.TemporaryFile()  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            cmd, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=self._log
        )

    def wait_ready(self, timeout: float = 600) -> None:
        """Poll the health route until it says 200; raises SystemExit if the server exits
        or ``timeout`` passes."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                if httpx.get(self.url + self._health, timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self._log.seek(0)
                tail = self._log.read().decode(errors="replace")[-4000:]
                self.stop()
                raise SystemExit(f"the server did not become ready\n{tail}".rstrip())
            time.sleep(0.2)

    def stop(self, sig: int = signal.SIGTERM) -> None:
        """Ask the server to shut down (``sig``), killing it if it takes over a minute."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()


class ServerProcess(HttpProcess):
    """``python -m supertonic_server.cli`` on 127.0.0.1:``port`` with ``--log-level warning``
    and ``flags``, serving ``bundle`` (``--model-dir``), else the ``full`` synthetic bundle
    (``--synthetic full``)."""

    def __init__(self, port: int, *flags: str, bundle: Path | None = None) -> None:
        model = ["--model-dir", str(bundle)] if bundle else ["--synthetic", "full"]
        cmd = [
            sys.executable, "-m", "supertonic_server.cli", *model,
            "--port", str(port), "--log-level", "warning", *flags,
        ]  # fmt: skip
        super().__init__(cmd, port)


def start_server(
    port: int, *flags: str, bundle: Path | None = None, timeout: float = 600
) -> ServerProcess:
    """A :class:`ServerProcess`, once ``/readyz`` says 200."""
    server = ServerProcess(port, *flags, bundle=bundle)
    server.wait_ready(timeout)
    return server
