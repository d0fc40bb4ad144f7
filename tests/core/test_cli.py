"""The ``supertonic`` command line."""

from __future__ import annotations

import io
import shutil
import wave
from pathlib import Path

import numpy as np
import pytest
from supertonic_core.cli import main
from supertonic_core.scheduler import Scheduler


def test_synth_to_wav(tiny_bundle_dir: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "hello.wav"
    code = main(
        ["synth", "Hello from the command line. Two sentences.", "-o", str(out),
         "--model-dir", str(tiny_bundle_dir), "--voice", "nova", "--steps", "2", "--seed", "1",
         "--sample-rate", "16000", "-q"]
    )  # fmt: skip
    assert code == 0
    with wave.open(str(out)) as wav:
        assert wav.getframerate() == 16000 and wav.getnchannels() == 1
        assert wav.getnframes() > 16000 * 0.5
    assert "SYNTHETIC" in capsys.readouterr().err


def test_synth_on_the_device_path(tiny_bundle_dir: Path, tmp_path: Path) -> None:
    """IO binding and buckets are flags; on the CPU they give the same audio (to float
    rounding: one step of 16-bit PCM at most)."""
    outs = [tmp_path / "a.pcm", tmp_path / "b.pcm"]
    for out, flags in zip(outs, ([], ["--io-binding", "--buckets"]), strict=True):
        args = ["synth", "Okay. Here it is.", "-o", str(out), "--seed", "1", "-q"]
        assert main([*args, "--model-dir", str(tiny_bundle_dir), *flags]) == 0
    a, b = (np.frombuffer(out.read_bytes(), np.int16).astype(int) for out in outs)
    assert a.shape == b.shape and np.abs(a - b).max() <= 1


def test_synth_from_stdin_to_pcm(tiny_bundle_dir: Path, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("Read from standard input."))
    out = tmp_path / "x.pcm"
    assert main(["synth", "-o", str(out), "--model-dir", str(tiny_bundle_dir), "-q"]) == 0
    assert out.stat().st_size > 0 and out.stat().st_size % 2 == 0


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--voice", "Z9"], "unknown voice 'Z9'"),
        (["--speed", "9"], "speed must be between"),
        (["--lang", "xx"], "unknown language 'xx'"),
        (["--device", "cpu", "--cuda-graph"], "cuda_graph needs an NVIDIA GPU"),
    ],
)
def test_synth_errors(tiny_bundle_dir: Path, tmp_path: Path, capsys, args, needle) -> None:
    code = main(
        ["synth", "Hi.", "-o", str(tmp_path / "o.wav"), "--model-dir", str(tiny_bundle_dir), *args]
    )
    assert code == 2
    assert needle in capsys.readouterr().err


def test_voices_lists_names_without_a_model(
    tmp_path: Path, tiny_bundle_dir: Path, monkeypatch, capsys
) -> None:
    """Listing names needs no bundle: none in the cache and no network here, yet it answers."""
    monkeypatch.setenv("SUPERTONIC_CACHE_DIR", str(tmp_path / "empty-cache"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    custom = tmp_path / "custom"
    custom.mkdir()
    shutil.copy(tiny_bundle_dir / "voice_styles" / "F2.json", custom / "narrator.json")
    assert main(["voices", "--voices-dir", str(custom)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[:10] == ["F1", "F2", "F3", "F4", "F5", "M1", "M2", "M3", "M4", "M5"]
    assert "narrator" in lines and "alloy\t-> F1" in lines
    assert not (tmp_path / "empty-cache").exists()


def test_an_unreachable_hub_names_the_offline_way_out(tmp_path: Path, monkeypatch, capsys) -> None:
    from huggingface_hub import constants

    # As unreachable as no network, without the minute of retries (read at import: patch both).
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    assert main(["download", "--dest", str(tmp_path / "m")]) == 2
    err = capsys.readouterr().err
    assert "--model-dir" in err and "--synthetic tiny" in err


def test_make_synthetic(tmp_path: Path, capsys) -> None:
    assert main(["make-synthetic", str(tmp_path / "b"), "--profile", "tiny", "--seed", "3"]) == 0
    assert (tmp_path / "b/onnx/tts.json").is_file()
    assert "not speech" in capsys.readouterr().out


def test_download_uses_the_hub(monkeypatch, tmp_path: Path, tiny_bundle_dir: Path, capsys) -> None:
    import huggingface_hub

    def snapshot_download(*, repo_id, revision, local_dir):
        shutil.copytree(tiny_bundle_dir, local_dir, dirs_exist_ok=True)

    monkeypatch.setattr(huggingface_hub, "snapshot_download", snapshot_download)
    assert main(["download", "--dest", str(tmp_path / "m")]) == 0
    assert "ready at" in capsys.readouterr().out


def test_synth_with_two_workers_writes_the_same_audio(
    tiny_bundle_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Chunks split as the text releases them (not sized by the measured speed, which
    differs run to run): the same samples from two workers as from one."""
    monkeypatch.setattr(Scheduler, "speech_budget", lambda *args: None)
    outputs = []
    for workers in ("1", "2"):
        out = tmp_path / f"{workers}.pcm"
        args = ["synth", "First sentence here. And a second one.", "-o", str(out), "-q",
                "--model-dir", str(tiny_bundle_dir), "--seed", "1", "--threads", "1",
                "--device", "cpu", "--workers", workers]  # fmt: skip
        assert main(args) == 0
        outputs.append(out.read_bytes())
    assert outputs[0] == outputs[1]


def test_workers_must_be_auto_or_a_number(capsys) -> None:
    with pytest.raises(SystemExit):
        main(["synth", "Hi.", "-o", "x.wav", "--workers", "many"])
    assert "auto or a positive integer" in capsys.readouterr().err
