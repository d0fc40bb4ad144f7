"""The Wyoming TTS server (Home Assistant), driven by the ``wyoming`` library's own client
against the real server on 127.0.0.1: with the HTTP server, and alone (``--no-http``)."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from supertonic_server import Settings
from wyoming.audio import AudioChunk, AudioStart, AudioStop
from wyoming.client import AsyncTcpClient
from wyoming.error import Error
from wyoming.event import Event
from wyoming.info import Describe, Info
from wyoming.tts import (
    Synthesize,
    SynthesizeChunk,
    SynthesizeStart,
    SynthesizeStop,
    SynthesizeStopped,
    SynthesizeVoice,
)

from .conftest import LiveServer, wait_for

#: A hang guard only: every read normally answers in well under a second.
READ_TIMEOUT = 60.0


@dataclass
class Reply:
    start: AudioStart | None = None
    pcm: bytearray = field(default_factory=bytearray)
    events: list[str] = field(default_factory=list)


@pytest.fixture(scope="module")
def wyoming(base_settings: Settings) -> Iterator[tuple[LiveServer, int]]:
    with socket.socket() as sock:  # a free port (the free_port fixture is per test)
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = LiveServer(base_settings.model_copy(update={"wyoming_port": port})).start()
    yield server, port
    server.stop()


async def read(client: AsyncTcpClient) -> Event:
    event = await asyncio.wait_for(client.read_event(), READ_TIMEOUT)
    assert event is not None, "the server closed the connection"
    return event


async def read_reply(client: AsyncTcpClient, until: str) -> Reply:
    """Events up to and including ``until`` (``audio-stop`` or ``synthesize-stopped``)."""
    reply = Reply()
    while True:
        event = await read(client)
        reply.events.append(event.type)
        if Error.is_type(event.type):
            raise AssertionError(f"error event: {Error.from_event(event)}")
        if AudioStart.is_type(event.type):
            reply.start = AudioStart.from_event(event)
        elif AudioChunk.is_type(event.type):
            reply.pcm += AudioChunk.from_event(event).audio
        if event.type == until:
            return reply


async def test_describe_lists_our_voices_and_languages(wyoming: tuple[LiveServer, int]) -> None:
    server, port = wyoming
    async with AsyncTcpClient("127.0.0.1", port) as client:
        await client.write_event(Describe().event())
        info = Info.from_event(await read(client))
    (program,) = info.tts
    assert program.supports_synthesize_streaming
    names = {voice.name for voice in program.voices}
    assert {"F1", "M5", "alloy"} <= names
    languages = set(program.voices[0].languages)
    assert "en" in languages and "ko" in languages
    assert languages == set(server.engine.languages) - {"na"}


async def test_synthesize_returns_the_audio(wyoming: tuple[LiveServer, int]) -> None:
    server, port = wyoming
    async with AsyncTcpClient("127.0.0.1", port) as client:
        voice = SynthesizeVoice(name="M2", language="en_US")
        await client.write_event(Synthesize(text="Hello from Wyoming.", voice=voice).event())
        reply = await read_reply(client, AudioStop().event().type)
    assert reply.start is not None
    assert (reply.start.rate, reply.start.width, reply.start.channels) == (
        server.engine.sample_rate,
        2,
        1,
    )
    assert reply.events[0] == "audio-start" and reply.events[-1] == "audio-stop"
    assert len(reply.pcm) > reply.start.rate * 2 * 0.2  # a sentence lasts well over 0.2 s
    assert len(reply.pcm) % 2 == 0
    wait_for(server.idle, what="the stream to be released")
    assert not server.app.state.lifecycle.streams


async def test_streaming_speaks_each_sentence_as_its_text_arrives(
    wyoming: tuple[LiveServer, int],
) -> None:
    server, port = wyoming
    async with AsyncTcpClient("127.0.0.1", port) as client:
        await client.write_event(SynthesizeStart(voice=SynthesizeVoice(name="F2")).event())
        for delta in ("The first sentence ", "is complete now. ", "The second"):
            await client.write_event(SynthesizeChunk(text=delta).event())
        # The first sentence's audio comes while the second is still unfinished and the
        # stream is still open: nothing here has said synthesize-stop.
        first = await read(client)
        assert AudioStart.is_type(first.type)
        assert AudioChunk.is_type((await read(client)).type)

        await client.write_event(SynthesizeChunk(text=" one ends here.").event())
        # Home Assistant also sends the whole text, for servers that do not stream: ignored.
        whole = "The first sentence is complete now. The second one ends here."
        await client.write_event(Synthesize(text=whole).event())
        await client.write_event(SynthesizeStop().event())
        rest = await read_reply(client, SynthesizeStopped().event().type)
    assert rest.events[-2:] == ["audio-stop", "synthesize-stopped"]
    assert "audio-start" not in rest.events  # one audio stream for the whole reply
    wait_for(server.idle, what="the stream to be released")


async def test_an_empty_stream_still_ends_properly(wyoming: tuple[LiveServer, int]) -> None:
    _, port = wyoming
    async with AsyncTcpClient("127.0.0.1", port) as client:
        await client.write_event(SynthesizeStart().event())
        await client.write_event(SynthesizeChunk(text="  ").event())
        await client.write_event(SynthesizeStop().event())
        reply = await read_reply(client, "synthesize-stopped")
    assert reply.events == ["audio-start", "audio-stop", "synthesize-stopped"]


async def test_bad_requests_get_an_error_event_and_the_connection_stays_usable(
    wyoming: tuple[LiveServer, int],
) -> None:
    _, port = wyoming
    async with AsyncTcpClient("127.0.0.1", port) as client:
        bad_voice = Synthesize(text="Hello.", voice=SynthesizeVoice(name="nobody"))
        await client.write_event(bad_voice.event())
        error = Error.from_event(await read(client))
        assert "nobody" in error.text and error.code == "invalid_voice"

        bad_lang = Synthesize(text="Hello.", voice=SynthesizeVoice(language="xx"))
        await client.write_event(bad_lang.event())
        error = Error.from_event(await read(client))
        assert "xx" in error.text

        await client.write_event(SynthesizeChunk(text="stray").event())
        assert Error.from_event(await read(client)).code == "bad_event"

        await client.write_event(Synthesize(text="x" * 5000).event())
        assert Error.from_event(await read(client)).code == "input_too_long"

        await client.write_event(Describe().event())
        assert Info.is_type((await read(client)).type)


async def test_a_client_that_leaves_mid_stream_frees_its_slot(
    wyoming: tuple[LiveServer, int],
) -> None:
    server, port = wyoming
    long = " ".join(["This sentence keeps the synthesizer busy for a while."] * 40)
    async with AsyncTcpClient("127.0.0.1", port) as client:
        await client.write_event(Synthesize(text=long).event())
        assert AudioStart.is_type((await read(client)).type)
    wait_for(server.idle, what="the abandoned stream to be cancelled")
    wait_for(lambda: not server.app.state.lifecycle.streams, what="the stream to be forgotten")


def test_settings_refuse_a_wyoming_setup_that_cannot_work() -> None:
    with pytest.raises(ValueError, match="--no-http leaves nothing to serve"):
        Settings(http_enabled=False)
    with pytest.raises(ValueError, match="must differ"):
        Settings(port=9000, wyoming_port=9000)
    with pytest.raises(ValueError, match="SUPERTONIC_WYOMING_PORT"):
        Settings(wyoming_port=70000)


async def test_alone_without_http_then_sigterm(
    tiny_bundle_dir: Path, free_port: int, spawn: Callable[..., subprocess.Popen[str]]
) -> None:
    """``supertonic-server --no-http --wyoming-port P``: Wyoming only, drained on SIGTERM."""
    port = free_port
    script = str(Path(sys.executable).parent / "supertonic-server")
    env = {
        **os.environ,
        "SUPERTONIC_MODEL_DIR": str(tiny_bundle_dir),
        "SUPERTONIC_WYOMING_PORT": str(port),
        "SUPERTONIC_HTTP_ENABLED": "0",
        "SUPERTONIC_WARMUP": "0",
    }
    proc = spawn([script], env)
    reply = None
    for _ in range(600):  # until the model is loaded (an error event says "loading")
        assert proc.poll() is None, "the server exited early"
        try:
            async with AsyncTcpClient("127.0.0.1", port) as client:
                await client.write_event(Synthesize(text="Alone.").event())
                event = await read(client)
                if AudioStart.is_type(event.type):
                    reply = await read_reply(client, "audio-stop")
                    break
                assert Error.from_event(event).code == "model_loading"
        except ConnectionRefusedError:
            pass
        await asyncio.sleep(0.05)
    assert reply is not None and reply.pcm
    # The container health check, in this mode a Wyoming describe:
    probe = [sys.executable, "-m", "supertonic_server.probe"]
    checked = subprocess.run(probe, env=env, capture_output=True, text=True, timeout=30)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "ready" in checked.stdout
    proc.send_signal(signal.SIGTERM)
    output, _ = proc.communicate(timeout=30)
    assert proc.returncode == 0
    assert "Wyoming TTS on tcp://127.0.0.1:" in output
    assert "shutdown complete" in output
    assert "Uvicorn running" not in output
