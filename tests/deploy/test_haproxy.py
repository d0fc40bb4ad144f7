"""``deploy/haproxy/haproxy.cfg`` for real: Debian's HAProxy in front of two replicas of the
real server, on loopback. A replica that dies costs no request (HAProxy retries another),
and one that drains after SIGTERM gets no new connection (``/readyz`` says 503) while the
streams it has go on. Skipped where ``haproxy`` is not installed; ``.ci/run`` installs it.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from livekit.agents import APIConnectOptions
from livekit.agents.types import USERDATA_TIMED_TRANSCRIPT
from livekit.plugins import supertonic
from openai import OpenAI
from supertonic_core.client import SpeechClient
from supertonic_core.protocol import AudioEnd

from .conftest import DEPLOY

CONFIG = DEPLOY / "haproxy" / "haproxy.cfg"
GATED = DEPLOY.parent / "tests" / "server" / "gated_server.py"
SERVER = Path(os.environ.get("VIRTUAL_ENV", ".venv")) / "bin" / "supertonic-server"

pytestmark = pytest.mark.skipif(shutil.which("haproxy") is None, reason="haproxy not installed")


def port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def poll(predicate, what: str, timeout: float = 60.0):
    deadline = time.monotonic() + timeout
    while not (value := predicate()):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)
    return value


class Replica:
    """A real server process; ``gated``: behind a chunk gate (tests/server/gated_server.py):
    each stream sends its first chunk, then waits for :meth:`open_gate`."""

    def __init__(self, bundle: Path, logs: Path, name: str, *, gated: bool = False) -> None:
        self.port = port()
        self.log = (logs / f"{name}.log").open("w")
        env = {**os.environ, "SUPERTONIC_MODEL_DIR": str(bundle)}
        args = ["--port", str(self.port), "--no-warmup", "--shutdown-grace", "30"]
        self.gate: int | None = None
        command = [str(SERVER)]
        fds: tuple[int, ...] = ()
        if gated:
            read, self.gate = os.pipe()
            command, fds = [sys.executable, str(GATED), str(read)], (read,)
        self.proc = subprocess.Popen(
            [*command, *args], env=env, stdout=self.log, stderr=subprocess.STDOUT, pass_fds=fds
        )
        if fds:
            os.close(fds[0])

    def open_gate(self) -> None:
        assert self.gate is not None
        os.write(self.gate, b"o")

    def ready(self) -> bool:
        try:
            return httpx.get(f"http://127.0.0.1:{self.port}/readyz").status_code == 200
        except httpx.TransportError:
            return False

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        if self.gate is not None:
            os.close(self.gate)
        self.log.close()


class Balancer:
    """HAProxy with the deploy file's settings, its addresses on free loopback ports and a
    stats socket to read what it thinks of each replica."""

    def __init__(self, replicas: list[Replica], tmp: Path) -> None:
        self.port = port()
        self.socket = tmp / "haproxy.sock"
        text = CONFIG.read_text()
        text = text.replace("bind 127.0.0.1:8000", f"bind 127.0.0.1:{self.port}")
        text = re.sub(r"\n    server r3 .*", "", text)
        for n, replica in enumerate(replicas, 1):
            text = text.replace(f"127.0.0.1:800{n}", f"127.0.0.1:{replica.port}")
        text = text.replace("global\n", f"global\n    stats socket {self.socket} level admin\n", 1)
        cfg = tmp / "haproxy.cfg"
        cfg.write_text(text)
        self.log = (tmp / "haproxy.log").open("w")
        self.proc = subprocess.Popen(
            ["haproxy", "-f", str(cfg)], stdout=self.log, stderr=subprocess.STDOUT
        )
        self.url = f"http://127.0.0.1:{self.port}"
        self.ports = [replica.port for replica in replicas]

    def stats(self) -> dict[str, list[str]]:
        """HAProxy's ``show stat`` row of each replica (``r1``...), from its stats socket."""
        if self.proc.poll() is not None:
            raise AssertionError("haproxy exited; see haproxy.log")
        try:
            with socket.socket(socket.AF_UNIX) as sock:
                sock.connect(str(self.socket))
                sock.sendall(b"show stat\n")
                data = b""
                while chunk := sock.recv(65536):
                    data += chunk
        except OSError:
            return {}
        rows = [line.split(",") for line in data.decode().splitlines()]
        return {row[1]: row for row in rows if row[0] == "replicas" and row[1].startswith("r")}

    def states(self) -> dict[str, str]:
        """``{"r1": "UP", ...}`` from HAProxy's own view."""
        return {name: row[17].split(" ")[0] for name, row in self.stats().items()}

    def sessions(self, replica: Replica) -> int:
        """Connections HAProxy holds open to ``replica`` now (``scur``)."""
        name = f"r{self.ports.index(replica.port) + 1}"
        return int(self.stats().get(name, ["0"] * 5)[4] or 0)

    def stop(self) -> None:
        self.proc.kill()
        self.proc.wait()
        self.log.close()


@pytest.fixture
def fleet(
    tiny_bundle_dir: Path, tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[tuple[Balancer, list[Replica]]]:
    gated = getattr(request, "param", False)
    replicas = [Replica(tiny_bundle_dir, tmp_path, f"r{n}", gated=gated) for n in (1, 2)]
    balancer = None
    try:
        for replica in replicas:
            poll(replica.ready, "a replica to be ready")
        balancer = Balancer(replicas, tmp_path)
        poll(lambda: balancer.states() == {"r1": "UP", "r2": "UP"}, "HAProxy to see both up")
        assert balancer.proc.poll() is None, (tmp_path / "haproxy.log").read_text()
        yield balancer, replicas
    finally:
        if balancer is not None:
            balancer.stop()
        for replica in replicas:
            replica.stop()


def speak(url: str) -> bytes:
    client = OpenAI(base_url=f"{url}/v1", api_key="none", max_retries=0)
    reply = client.audio.speech.create(
        model="tts-1", voice="alloy", input="Hi.", response_format="wav"
    )
    return reply.content


async def utterance(url: str) -> AudioEnd:
    async with SpeechClient(url.replace("http", "ws")) as client:
        await client.send_text("Through the balancer.")
        await client.flush()
        async with asyncio.timeout(30):
            async for event in client.events():
                if isinstance(event, AudioEnd):
                    return event
    raise AssertionError("no audio_end")


def test_requests_and_sockets_pass_through(fleet: tuple[Balancer, list[Replica]]) -> None:
    balancer, _ = fleet
    assert speak(balancer.url)[:4] == b"RIFF"
    assert asyncio.run(utterance(balancer.url)).stats["audio_s"] > 0


def test_a_killed_replica_costs_no_request(fleet: tuple[Balancer, list[Replica]]) -> None:
    """SIGKILL one replica: every request after it succeeds, before and after HAProxy's
    health check marks it down (a refused connection is retried on the other)."""
    balancer, (r1, _) = fleet
    r1.proc.send_signal(signal.SIGKILL)
    r1.proc.wait()
    for _ in range(6):
        assert speak(balancer.url)[:4] == b"RIFF"
    poll(lambda: balancer.states().get("r1") == "DOWN", "HAProxy to mark r1 down")
    assert asyncio.run(utterance(balancer.url)).stats["audio_s"] > 0


def test_a_draining_replica_gets_no_new_connection(fleet: tuple[Balancer, list[Replica]]) -> None:
    """SIGTERM with a stream in flight (a client that does not read holds it): /readyz turns
    503, HAProxy takes the replica out while it still serves that stream, and new requests
    go to the other."""
    balancer, (r1, _) = fleet
    with httpx.Client(base_url=f"http://127.0.0.1:{r1.port}", timeout=30) as direct:
        body = {
            "input": "A long reply that keeps the replica busy. " * 90,
            "response_format": "wav",
        }
        with direct.stream("POST", "/v1/audio/speech", json=body) as held:
            assert held.status_code == 200
            r1.proc.send_signal(signal.SIGTERM)
            poll(lambda: balancer.states().get("r1") == "DOWN", "HAProxy to take r1 out")
            assert r1.proc.poll() is None  # still draining, its stream still open
            for _ in range(4):
                assert speak(balancer.url)[:4] == b"RIFF"


@pytest.mark.parametrize("fleet", [True], indirect=True)
async def test_a_replica_killed_mid_utterance_is_resumed_on_the_other(
    fleet: tuple[Balancer, list[Replica]],
) -> None:
    """Both replicas hold every stream after its first chunk. A LiveKit stream through the
    balancer gets its first audio; the replica serving it is SIGKILLed; the stream goes on
    on the other replica (its gate opened) with only the text not yet spoken: every word of
    the transcript once, and no error (issue 24)."""
    balancer, replicas = fleet
    text = " ".join(f"Sentence {n} is said exactly once." for n in range(1, 9))
    tts_ = supertonic.TTS(base_url=balancer.url)
    try:
        stream = tts_.stream(conn_options=APIConnectOptions(max_retry=0, timeout=30))
        stream.push_text(text)
        stream.end_input()
        events = [await asyncio.wait_for(anext(stream), 30)]
        serving = poll(lambda: [r for r in replicas if balancer.sessions(r) > 0], "a session")
        (victim,) = serving
        (other,) = [r for r in replicas if r is not victim]
        victim.proc.send_signal(signal.SIGKILL)
        other.open_gate()
        events += [event async for event in stream]
        words = [t for e in events for t in e.frame.userdata.get(USERDATA_TIMED_TRANSCRIPT, [])]
        assert "".join(words).split() == text.split()
        await stream.aclose()
    finally:
        await tts_.aclose()
