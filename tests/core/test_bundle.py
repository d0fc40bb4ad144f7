"""Bundle resolution, verification and download, with the Hub faked at its boundary."""

from __future__ import annotations

import json
import shutil
import socket
from pathlib import Path

import pytest
from supertonic_core import (
    BundleDownloadError,
    BundleInvalidError,
    BundleNotFoundError,
    Engine,
    InvalidOptionError,
    download_bundle,
    resolve_bundle,
    verify_bundle,
)
from supertonic_core.bundle import MODELS, cache_dir
from supertonic_core.runtime import RuntimeOptions, choose_providers


@pytest.fixture
def copy_bundle(tiny_bundle_dir: Path, tmp_path: Path):
    def make(name: str = "copy") -> Path:
        dest = tmp_path / name
        shutil.copytree(tiny_bundle_dir, dest)
        return dest

    return make


@pytest.fixture
def fake_hub(monkeypatch, tiny_bundle_dir: Path):
    """Replace huggingface_hub.snapshot_download with a local copy and record its calls."""
    calls: list[dict] = []

    def snapshot_download(*, repo_id, revision, local_dir):
        calls.append({"repo_id": repo_id, "revision": revision, "local_dir": local_dir})
        shutil.copytree(tiny_bundle_dir, local_dir, dirs_exist_ok=True)
        return local_dir

    import huggingface_hub

    monkeypatch.setattr(huggingface_hub, "snapshot_download", snapshot_download)
    return calls


def test_missing_files_are_named(copy_bundle) -> None:
    path = copy_bundle()
    (path / "onnx/vocoder.onnx").unlink()
    (path / "voice_styles/M3.json").unlink()
    with pytest.raises(BundleInvalidError) as info:
        verify_bundle(path)
    assert "onnx/vocoder.onnx" in str(info.value) and "voice_styles/M3.json" in str(info.value)


def test_config_keys_are_checked(copy_bundle) -> None:
    path = copy_bundle()
    config = json.loads((path / "onnx/tts.json").read_text())
    del config["ttl"]["latent_dim"]
    (path / "onnx/tts.json").write_text(json.dumps(config))
    with pytest.raises(BundleInvalidError, match=r"ttl\.latent_dim"):
        verify_bundle(path)
    (path / "onnx/tts.json").write_text("{not json")
    with pytest.raises(BundleInvalidError, match="not valid JSON"):
        verify_bundle(path)


def test_corrupt_graph_fails_at_load(copy_bundle) -> None:
    path = copy_bundle()
    (path / "onnx/text_encoder.onnx").write_bytes(b"garbage, not a protobuf")
    with pytest.raises(BundleInvalidError, match=r"text_encoder\.onnx"):
        Engine(verify_bundle(path))


@pytest.mark.parametrize("content", ["{not json", "[1, 2,", '{"a": 1}'])
def test_corrupt_indexer_is_a_bundle_error(copy_bundle, content: str) -> None:
    path = copy_bundle()
    (path / "onnx/unicode_indexer.json").write_text(content)
    with pytest.raises(BundleInvalidError, match=r"unicode_indexer\.json"):
        Engine(verify_bundle(path))


def test_not_a_directory(tmp_path: Path) -> None:
    with pytest.raises(BundleNotFoundError):
        verify_bundle(tmp_path / "nowhere")


def test_explicit_dir_wins(copy_bundle, monkeypatch, tmp_path, fake_hub) -> None:
    monkeypatch.setenv("SUPERTONIC_CACHE_DIR", str(tmp_path / "cache"))
    bundle = resolve_bundle(model_dir=copy_bundle())
    assert bundle.path.name == "copy" and fake_hub == []


def test_cache_then_download(monkeypatch, tmp_path, fake_hub) -> None:
    monkeypatch.setenv("SUPERTONIC_CACHE_DIR", str(tmp_path / "cache"))
    first = resolve_bundle()
    assert first.path == tmp_path / "cache" / "supertonic3" == cache_dir()
    assert fake_hub[0]["repo_id"] == "Supertone/supertonic-3"
    assert fake_hub[0]["revision"] == MODELS["supertonic-3"].revision
    second = resolve_bundle()
    assert second.path == first.path and len(fake_hub) == 1  # served from the cache
    assert not [p for p in (tmp_path / "cache").iterdir() if p.name.startswith(".")]


def test_cache_dir_variable_may_name_a_bundle(copy_bundle, monkeypatch, fake_hub) -> None:
    path = copy_bundle()
    monkeypatch.setenv("SUPERTONIC_CACHE_DIR", str(path))
    assert resolve_bundle().path == path and fake_hub == []


def test_revision_override(monkeypatch, tmp_path, fake_hub) -> None:
    download_bundle("supertonic-2", dest=tmp_path / "b", revision="abc123")
    assert fake_hub[0] == {
        "repo_id": "Supertone/supertonic-2",
        "revision": "abc123",
        "local_dir": fake_hub[0]["local_dir"],
    }


def test_killed_download_leaves_nothing(monkeypatch, tmp_path, tiny_bundle_dir) -> None:
    import huggingface_hub

    def half_then_die(*, repo_id, revision, local_dir):
        shutil.copytree(tiny_bundle_dir / "onnx", Path(local_dir) / "onnx", dirs_exist_ok=True)
        raise OSError("connection reset by peer")

    monkeypatch.setattr(huggingface_hub, "snapshot_download", half_then_die)
    monkeypatch.setenv("SUPERTONIC_CACHE_DIR", str(tmp_path / "cache"))
    with pytest.raises(BundleDownloadError) as info:
        resolve_bundle()
    assert "connection reset" in str(info.value) and "--model-dir" in str(info.value)
    assert list((tmp_path / "cache").iterdir()) == []  # no half bundle, no staging folder


def test_offline_error_says_how_to_predownload(monkeypatch, tmp_path) -> None:
    import huggingface_hub
    from huggingface_hub.errors import LocalEntryNotFoundError

    def offline(**kwargs):
        raise LocalEntryNotFoundError("cannot reach huggingface.co")

    monkeypatch.setattr(huggingface_hub, "snapshot_download", offline)
    monkeypatch.setenv("SUPERTONIC_CACHE_DIR", str(tmp_path))
    with pytest.raises(BundleDownloadError) as info:
        resolve_bundle()
    message = str(info.value)
    assert "unreachable" in message and "hf download Supertone/supertonic-3" in message
    assert f"copy it to {tmp_path / 'supertonic3'}" in message
    assert isinstance(info.value, OSError)


def test_an_unreachable_hub_fails_at_once_without_retries(monkeypatch, tmp_path) -> None:
    """Offline, the Hub client retried for about 25 s before our error: now a refused or
    unresolvable Hub is reported before the client is called at all, with the same advice."""
    import huggingface_hub
    import huggingface_hub.constants

    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]  # bound, not listening: connections are refused
        monkeypatch.setattr(huggingface_hub.constants, "ENDPOINT", f"http://127.0.0.1:{port}")
        called = []
        monkeypatch.setattr(huggingface_hub, "snapshot_download", lambda **kw: called.append(kw))
        monkeypatch.setenv("SUPERTONIC_CACHE_DIR", str(tmp_path))
        with pytest.raises(BundleDownloadError) as info:
            resolve_bundle()
    assert called == []
    message = str(info.value)
    assert "unreachable" in message and f"127.0.0.1:{port}" in message
    assert "hf download Supertone/supertonic-3" in message and "--synthetic tiny" in message


def test_download_disabled(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("SUPERTONIC_CACHE_DIR", str(tmp_path))
    with pytest.raises(BundleNotFoundError, match="supertonic download"):
        resolve_bundle(download=False)


def test_incomplete_cache_is_downloaded_again(
    monkeypatch, tmp_path, fake_hub, tiny_bundle_dir
) -> None:
    monkeypatch.setenv("SUPERTONIC_CACHE_DIR", str(tmp_path))
    broken = cache_dir()
    shutil.copytree(tiny_bundle_dir, broken)
    (broken / "onnx/vocoder.onnx").unlink()
    assert resolve_bundle().path == broken and len(fake_hub) == 1
    assert (broken / "onnx/vocoder.onnx").is_file()


def test_unknown_model() -> None:
    with pytest.raises(InvalidOptionError, match="supertonic-3"):
        resolve_bundle("supertonic-9")


def test_providers(caplog) -> None:
    assert choose_providers("cpu") == ["CPUExecutionProvider"]
    assert choose_providers("auto")[-1] == "CPUExecutionProvider"
    with caplog.at_level("WARNING"):
        assert choose_providers("cuda") == ["CPUExecutionProvider"]
    assert "falling back to CPU" in caplog.text
    with pytest.raises(InvalidOptionError):
        RuntimeOptions(device="tpu")
    with pytest.raises(InvalidOptionError):
        RuntimeOptions(intra_threads=0)


def test_gpu_providers_get_their_options(monkeypatch) -> None:
    """What a GPU machine's onnxruntime would be handed (no GPU needed to check it)."""
    import onnxruntime

    gpu = ["TensorrtExecutionProvider", "CUDAExecutionProvider", "CPUExecutionProvider"]
    monkeypatch.setattr(onnxruntime, "get_available_providers", lambda: gpu)
    options = RuntimeOptions(device="cuda", device_id=1, gpu_mem_limit_mb=2048)
    (cuda, cuda_options), cpu = choose_providers("cuda", options)
    assert (cuda, cpu) == ("CUDAExecutionProvider", "CPUExecutionProvider")
    assert cuda_options == {
        "device_id": "1",
        "cudnn_conv_algo_search": "HEURISTIC",
        "arena_extend_strategy": "kSameAsRequested",
        "gpu_mem_limit": str(2048 * 1024 * 1024),
    }
    trt = RuntimeOptions(device="tensorrt", tensorrt_cache="/models/trt")
    (name, trt_options), (fallback, _), _ = choose_providers("tensorrt", trt)
    assert (name, fallback) == ("TensorrtExecutionProvider", "CUDAExecutionProvider")
    assert trt_options["trt_engine_cache_path"] == "/models/trt"
    assert trt_options["trt_engine_cache_enable"] == "True"
    assert choose_providers("auto")[0][0] == "CUDAExecutionProvider"
    with pytest.raises(InvalidOptionError, match="conv_search"):
        RuntimeOptions(conv_search="fastest")


def test_runtime_options_apply(tiny_bundle) -> None:
    with Engine(
        tiny_bundle, runtime=RuntimeOptions(device="cpu", intra_threads=1, optimization="basic")
    ) as eng:
        assert eng.providers == ["CPUExecutionProvider"]
        assert len(eng.synthesize("Threads set.", eng.options(seed=0))) > 0
