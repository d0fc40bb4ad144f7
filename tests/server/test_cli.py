"""The ``supertonic-server`` console script, as a user runs it: flags, env, start, SIGTERM."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import httpx

from .conftest import wait_for

SCRIPT = str(Path(sys.executable).parent / "supertonic-server")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [SCRIPT, *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **(env or {})},
    )


def test_help_lists_flags_with_their_variables() -> None:
    result = run("--help")
    assert result.returncode == 0
    for text in (
        "--max-queue",
        "SUPERTONIC_MAX_QUEUE",
        "--api-key",
        "SUPERTONIC_API_KEY",
        "--synthetic",
        "--pcm-sample-rate",
        "--no-warmup",
        "--ui, --no-ui",
        "request defaults:",
        "--total-steps",
        "(default: ",
    ):
        assert text in result.stdout


def test_a_bad_flag_value_is_refused_by_name() -> None:
    result = run("--total-steps", "0")
    assert result.returncode == 2
    assert "--total-steps / SUPERTONIC_TOTAL_STEPS must be between 1 and 32, got '0'" in (
        result.stderr
    )


def test_a_bad_variable_is_refused_by_name() -> None:
    result = run(env={"SUPERTONIC_MAX_QUEUE": "lots"})
    assert result.returncode == 2
    assert "SUPERTONIC_MAX_QUEUE must be an integer, got 'lots'" in result.stderr


def test_a_model_that_cannot_load_exits_1(tmp_path: Path) -> None:
    result = run("--model-dir", str(tmp_path / "missing"), "--port", str(free_port()))
    assert result.returncode == 1
    assert "the model could not be loaded" in result.stderr


def test_serves_then_shuts_down_cleanly_on_sigterm(tiny_bundle_dir: Path) -> None:
    port = free_port()
    env = {
        **os.environ,
        "SUPERTONIC_MODEL_DIR": str(tiny_bundle_dir),
        "SUPERTONIC_PORT": str(port),
        "SUPERTONIC_WARMUP": "0",
    }
    proc = subprocess.Popen(
        [SCRIPT, "--log-level", "info"],
        env=env,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        base = f"http://127.0.0.1:{port}"

        def ready() -> bool:
            try:
                return httpx.get(f"{base}/readyz").status_code == 200
            except httpx.ConnectError:
                assert proc.poll() is None, "the server exited early"
                return False

        wait_for(ready, what="the CLI server to be ready")
        response = httpx.post(f"{base}/v1/audio/speech", json={"input": "Hello."})
        assert response.status_code == 200 and response.content
        rid = response.headers["x-request-id"]
        proc.send_signal(signal.SIGTERM)
        output, _ = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0  # a drained stop is a clean exit (not uvicorn's re-raised 143)
    assert "shutdown complete" in output
    lines = [line for line in output.splitlines() if f"[{rid}]" in line]
    assert any("speech request" in line for line in lines)
    assert any("speech ok" in line for line in lines)
    assert any('"POST /v1/audio/speech HTTP/1.1" 200' in line for line in lines)
