"""The LiveKit examples: the agent imports and its download-files path works; the offline
script writes a WAV file."""

from __future__ import annotations

import os
import subprocess
import sys
import wave
from collections.abc import Callable
from pathlib import Path
from types import ModuleType, SimpleNamespace

import pytest

EXAMPLES = Path(__file__).parents[2] / "examples"


def test_agent_download_files(tiny_bundle_dir: Path) -> None:
    env = {**os.environ, "SUPERTONIC_MODEL_DIR": str(tiny_bundle_dir)}
    done = subprocess.run(
        [sys.executable, str(EXAMPLES / "livekit_agent.py"), "download-files"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    output = " ".join((done.stdout + done.stderr).split())
    assert "livekit.plugins.supertonic" in output
    assert str(tiny_bundle_dir) in output.replace(" ", "") or "SYNTHETIC" in output


async def test_agent_prewarm_and_tts(
    tiny_bundle_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
    load_example: Callable[[str], ModuleType],
) -> None:
    monkeypatch.setenv("SUPERTONIC_MODEL_DIR", str(tiny_bundle_dir))
    monkeypatch.delenv("SUPERTONIC_BASE_URL", raising=False)
    agent = load_example("livekit_agent")
    assert agent.server._entrypoint_fnc is agent.entrypoint
    proc = SimpleNamespace(userdata={})
    agent.prewarm(proc)  # what each worker process runs before its first job
    engine = proc.userdata["supertonic_engine"]
    try:
        tts = agent.make_tts(proc)
        assert tts.engine is engine
        frame = await tts.synthesize("The agent's voice works.").collect()
        assert frame.duration > 0.5 and frame.sample_rate == 44100
        await tts.aclose()
    finally:
        engine.close()


def test_to_wav_with_a_synthetic_bundle(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    load_example: Callable[[str], ModuleType],
) -> None:
    monkeypatch.setenv("SUPERTONIC_CACHE_DIR", str(tmp_path / "cache"))
    out = tmp_path / "out.wav"
    script = load_example("livekit_to_wav")
    code = script.main(
        ["--synthetic", "--sample-rate", "24000", "Hello there. Two sentences.", "-o", str(out)]
    )
    assert code == 0
    with wave.open(str(out)) as w:
        assert w.getframerate() == 24000 and w.getnchannels() == 1
        assert w.getnframes() > 24000 * 0.5
    assert "4 words" in capsys.readouterr().out
