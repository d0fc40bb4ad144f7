"""The real ``supertone`` SDK as the client of our real server.

``supertone==0.2.3`` needs Python >= 3.12 and the project runs on 3.11, so the SDK lives
in an environment of its own: made once (with uv) from the first Python >= 3.12 found
(``$SUPERTONE_SDK_PYTHON``, then ``uv python find``, then pyenv's versions, which uv does
not see through pyenv's shims), cached under ``~/.cache/supertonic-tests`` by SDK and
Python version, and reused by every later run. The SDK runs there as a subprocess
(:mod:`sdk_driver`) against a live server on 127.0.0.1. Without a Python >= 3.12 or the
package index, the SDK tests skip and say why; ``SUPERTONE_SDK_REQUIRED=1`` (set by
``.ci/run``) makes that a failure instead.
"""

from __future__ import annotations

import base64
import glob
import json
import os
import shutil
import struct
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from supertonic_server import Settings
from supertonic_server.testing import LiveServer

SDK = "supertone==0.2.3"
DRIVER = Path(__file__).with_name("sdk_driver.py")
PREFIX = "/supertone"


def _python_312() -> str | None:
    """A Python >= 3.12 interpreter, or None."""
    given = os.environ.get("SUPERTONE_SDK_PYTHON")
    if given:
        return given
    uv = shutil.which("uv")
    if uv:
        env = {**os.environ, "UV_PYTHON_DOWNLOADS": "never"}
        found = subprocess.run(
            [uv, "python", "find", ">=3.12"], capture_output=True, text=True, env=env
        )
        if found.returncode == 0 and found.stdout.strip():
            return found.stdout.strip()
    root = os.environ.get("PYENV_ROOT") or os.path.expanduser("~/.pyenv")
    versions = sorted(glob.glob(f"{root}/versions/3.1[2-9]*/bin/python3"))
    return versions[0] if versions else None


def _unavailable(reason: str) -> None:
    if os.environ.get("SUPERTONE_SDK_REQUIRED"):
        pytest.fail(f"the supertone SDK is required here: {reason}")
    pytest.skip(reason)


def _version(python: str) -> str:
    out = subprocess.run(
        [python, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
        capture_output=True,
        text=True,
    )
    return out.stdout.strip()


@pytest.fixture(scope="session")
def sdk_python() -> str:
    """The interpreter of a (cached) environment with the SDK installed."""
    python = _python_312()
    uv = shutil.which("uv")
    if python is None or uv is None:
        _unavailable(
            "no Python >= 3.12 (set SUPERTONE_SDK_PYTHON=/path/to/python3.12) or no uv; "
            f"the {SDK} tests need both"
        )
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "supertonic-tests"
    venv = cache / f"supertone-{SDK.split('==')[1]}-py{_version(python)}"
    ready = venv / "bin" / "python"
    if not ready.exists():
        cache.mkdir(parents=True, exist_ok=True)
        building = cache / f".build-{uuid.uuid4().hex}"
        try:
            subprocess.run([uv, "venv", "-q", "--python", python, str(building)], check=True)
            subprocess.run(
                [uv, "pip", "install", "-q", "--python", str(building / "bin" / "python"), SDK],
                check=True,
                timeout=600,
            )
            building.rename(venv)  # atomic: a half-made environment is never used
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError) as exc:
            shutil.rmtree(building, ignore_errors=True)
            if not ready.exists():  # another run may have finished it meanwhile
                _unavailable(f"could not install {SDK} for {python}: {exc}")
    return str(ready)


class SdkClient:
    """Runs calls through the SDK against one server, as a user's script would."""

    def __init__(self, python: str, server: LiveServer, key: str = "any-key") -> None:
        self.python = python
        self.url = server.base_url + PREFIX
        self.key = key

    def run(self, *calls: dict[str, Any]) -> list[dict[str, Any]]:
        done = subprocess.run(
            [self.python, str(DRIVER), self.url, self.key],
            input=json.dumps(list(calls)),
            capture_output=True,
            text=True,
            timeout=300,
            env={**os.environ, "NO_PROXY": "127.0.0.1", "no_proxy": "127.0.0.1"},
        )
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)

    def one(self, op: str, *, is_async: bool = False, **kwargs: Any) -> dict[str, Any]:
        return self.run({"op": op, "async": is_async, "kwargs": kwargs})[0]

    def with_key(self, key: str) -> SdkClient:
        clone = SdkClient.__new__(SdkClient)
        clone.python, clone.url, clone.key = self.python, self.url, key
        return clone


@pytest.fixture(scope="session")
def voices_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("supertone-voices")


@pytest.fixture(scope="session")
def st_server(base_settings: Settings, voices_dir: Path) -> Iterator[LiveServer]:
    """A server with a custom voices folder (the Supertone custom-voice routes use it)."""
    server = LiveServer(
        base_settings.model_copy(update={"voices_dir": str(voices_dir), "warmup": False})
    ).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def sdk(sdk_python: str, st_server: LiveServer) -> SdkClient:
    return SdkClient(sdk_python, st_server)


# --------------------------------------------------------------------------- audio


def audio_bytes(result: dict[str, Any]) -> bytes:
    assert result["kind"] == "audio", result
    return base64.b64decode(result["audio_base64"])


def read_wav(data: bytes) -> tuple[np.ndarray, int]:
    """The samples and rate of a WAV with the canonical 44-byte header the SDK's merge code
    reads at fixed offsets (``fmt `` at 12, size 16; ``data`` at 36); sizes may be
    ``0xFFFFFFFF`` (a stream) or exact, and the samples are whatever follows the header."""
    assert data[:4] == b"RIFF" and data[8:16] == b"WAVEfmt " and data[36:40] == b"data", data[:44]
    fmt_size, fmt, channels, rate = struct.unpack("<IHHI", data[16:28])
    bits = struct.unpack("<H", data[34:36])[0]
    assert (fmt_size, fmt, channels, bits) == (16, 1, 1, 16)
    return np.frombuffer(data[44 : 44 + (len(data) - 44) // 2 * 2], dtype="<i2"), rate
