"""The LiveKit examples: the agent imports and its download-files path works; the offline
script writes a WAV file."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import wave
from pathlib import Path
from types import ModuleType, SimpleNamespace

import pytest

EXAMPLES = Path(__file__).parents[2] / "examples"


def load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"_example_{name}", EXAMPLES / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


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
    tiny_bundle_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SUPERTONIC_MODEL_DIR", str(tiny_bundle_dir))
    monkeypatch.delenv("SUPERTONIC_BASE_URL", raising=False)
    agent = load("livekit_agent")
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
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SUPERTONIC_CACHE_DIR", str(tmp_path / "cache"))
    out = tmp_path / "out.wav"
    script = load("livekit_to_wav")
    code = script.main(
        ["--synthetic", "--sample-rate", "24000", "Hello there. Two sentences.", "-o", str(out)]
    )
    assert code == 0
    with wave.open(str(out)) as w:
        assert w.getframerate() == 24000 and w.getnchannels() == 1
        assert w.getnframes() > 24000 * 0.5
    assert "4 words" in capsys.readouterr().out
