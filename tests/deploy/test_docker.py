"""The container images and the compose stack, as far as a machine without a Docker daemon
can check them: lint (hadolint), structure (Docker's parser), the environment the image
sets (the server's own settings loader), and the image's command and health check run
directly here, SIGTERM included. Building and running the images is deploy/docker/smoke.sh's
job (podman, as root; .ci/run runs it): here, only that it fits the Dockerfiles."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from supertonic_server.probe import readyz_url
from supertonic_server.settings import load_settings, variables

from .conftest import DEPLOY, DOCKERFILES, ROOT, image_env, instruction

BIN = Path(sys.executable).parent
#: Variables the core reads itself (the bundle's location), beside the server's settings.
CORE_VARIABLES = {"SUPERTONIC_CACHE_DIR", "SUPERTONIC_MODEL_DIR"}
SETTING_VARIABLES = variables() | CORE_VARIABLES


@pytest.mark.parametrize("path", DOCKERFILES, ids=lambda p: p.name)
def test_hadolint_finds_nothing(path: Path) -> None:
    result = subprocess.run(
        [str(BIN / "hadolint"), "--no-color", str(path)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("path", DOCKERFILES, ids=lambda p: p.name)
def test_the_image_runs_the_server_as_pid_1_non_root_with_model_and_voice_volumes(
    path: Path,
) -> None:
    cmd = instruction(path, "CMD")
    assert cmd.json and cmd.value == ("supertonic-server",)  # exec form: SIGTERM reaches it
    user = instruction(path, "USER").value[0]
    assert user.split(":")[0] not in ("root", "0")
    env = image_env(path)
    assert instruction(path, "VOLUME").value == (env["SUPERTONIC_CACHE_DIR"], "/data")
    assert env["HF_HOME"].startswith(env["SUPERTONIC_CACHE_DIR"])
    assert env["SUPERTONIC_VOICES_DIR"] == "/data/voices"  # custom voices on the volume
    health = instruction(path, "HEALTHCHECK")
    assert health.json and health.value == ("CMD", "python", "-m", "supertonic_server.probe")
    assert instruction(path, "STOPSIGNAL").value == ("SIGTERM",)
    exposed = instruction(path, "EXPOSE").value
    assert env["SUPERTONIC_PORT"] in exposed and "10200" in exposed


@pytest.mark.parametrize("path", DOCKERFILES, ids=lambda p: p.name)
def test_every_variable_the_image_sets_is_a_setting_the_server_accepts(path: Path) -> None:
    env = image_env(path)
    ours = {k: v for k, v in env.items() if k.startswith("SUPERTONIC_")}
    assert set(ours) <= SETTING_VARIABLES, set(ours) - SETTING_VARIABLES
    settings = load_settings([], environ=ours)
    assert settings.host == "0.0.0.0" and settings.port == 8000
    assert settings.device == ("cuda" if path.name.endswith("cuda") else "cpu")
    assert settings.shutdown_grace > 0


def test_the_cuda_image_swaps_in_the_gpu_build_of_the_locked_onnxruntime() -> None:
    text = (DEPLOY / "docker" / "Dockerfile.cuda").read_text()
    lock = (ROOT / "uv.lock").read_text()
    version = text.split("onnxruntime-gpu[cuda,cudnn]==")[1].split()[0]
    assert f'name = "onnxruntime"\nversion = "{version}"' in lock
    assert "uv pip uninstall" in text and "ldconfig" in text


def test_the_build_context_keeps_out_what_the_image_does_not_need() -> None:
    ignored = (ROOT / ".dockerignore").read_text().split()
    for path in ("tests", "benchmarks", ".git", "**/.venv"):
        assert path in ignored


def test_the_image_command_and_health_check_run_here_and_drain_on_sigterm(
    tiny_bundle_dir: Path,
    tmp_path: Path,
    free_port: int,
    spawn: Callable[..., subprocess.Popen[str]],
) -> None:
    """CMD and HEALTHCHECK of the CPU image, with the image's environment, run on this
    machine (the venv stands in for /opt/venv); only the address, the port, the bundle and
    the folders are changed, to stay on loopback and offline. deploy/docker/smoke.sh runs
    the built image itself."""
    path = DOCKERFILES[0]
    port = free_port
    voices = tmp_path / "voices"  # the image's /data/voices
    voices.mkdir()
    env = {
        **os.environ,
        **{k: v for k, v in image_env(path).items() if k != "PATH"},
        "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}",
        "HF_HOME": str(tmp_path / "hf"),
        "SUPERTONIC_HOST": "127.0.0.1",
        "SUPERTONIC_PORT": str(port),
        "SUPERTONIC_CACHE_DIR": str(tmp_path),
        "SUPERTONIC_MODEL_DIR": str(tiny_bundle_dir),
        "SUPERTONIC_VOICES_DIR": str(voices),
        "SUPERTONIC_WARMUP": "0",
    }
    health = list(instruction(path, "HEALTHCHECK").value[1:])
    health[0] = str(BIN / "python")

    def healthy() -> bool:
        return subprocess.run(health, env=env, capture_output=True, timeout=30).returncode == 0

    assert not healthy()  # nothing listens yet
    proc = spawn(list(instruction(path, "CMD").value), env)
    for _ in range(600):
        assert proc.poll() is None, "the server exited early"
        if healthy():
            break
    else:
        raise AssertionError("the health check never passed")
    proc.send_signal(signal.SIGTERM)
    output, _ = proc.communicate(timeout=60)
    assert proc.returncode in (0, -signal.SIGTERM)  # uvicorn re-raises the signal when done
    assert "shutdown complete" in output
    assert "'shutdown_grace': 25.0" in output  # the image's SUPERTONIC_SHUTDOWN_GRACE


def test_the_probe_asks_loopback_for_a_wildcard_bind() -> None:
    assert readyz_url("0.0.0.0", 8000) == "http://127.0.0.1:8000/readyz"
    assert readyz_url("::", 8000) == "http://[::1]:8000/readyz"
    assert readyz_url("10.0.0.5", 9000) == "http://10.0.0.5:9000/readyz"


def test_compose_wires_the_server_prometheus_and_grafana() -> None:
    compose_dir = DEPLOY / "compose"
    compose = yaml.safe_load((compose_dir / "compose.yaml").read_text())
    services = compose["services"]
    server = services["supertonic"]
    dockerfile_path = (
        compose_dir / server["build"]["context"] / server["build"]["dockerfile"]
    ).resolve()
    assert dockerfile_path == DOCKERFILES[0]
    grace = float(image_env(DOCKERFILES[0])["SUPERTONIC_SHUTDOWN_GRACE"])
    assert float(server["stop_grace_period"].rstrip("s")) > grace
    assert any(v.endswith(":/models") for v in server["volumes"])
    assert any(v.endswith(":/data") for v in server["volumes"])  # custom voices
    assert "8000:8000" in server["ports"]
    gpu = yaml.safe_load((compose_dir / "compose.gpu.yaml").read_text())["services"]["supertonic"]
    assert gpu["build"]["dockerfile"] == "deploy/docker/Dockerfile.cuda"

    prometheus = yaml.safe_load((compose_dir / "prometheus.yml").read_text())
    (job,) = prometheus["scrape_configs"]
    assert job["static_configs"][0]["targets"] == ["supertonic:8000"]
    assert job["metrics_path"] == "/metrics"

    for service in ("prometheus", "grafana"):
        for volume in services[service]["volumes"]:
            source = volume.split(":")[0]
            if source.startswith("."):
                assert (compose_dir / source).exists(), source
    dashboards = compose_dir / "../helm/supertonic/dashboards"
    dashboard = json.loads((dashboards / "supertonic.json").read_text())
    assert dashboard["uid"] == "supertonic" and dashboard["panels"]


SMOKE = DEPLOY / "docker" / "smoke.sh"


def test_smoke_script_is_valid_bash_and_passes_shellcheck_where_installed() -> None:
    assert os.access(SMOKE, os.X_OK)
    subprocess.run(["bash", "-n", str(SMOKE)], check=True)
    shellcheck = shutil.which("shellcheck")
    if shellcheck:  # Debian's package; smoke.sh itself does not need it
        result = subprocess.run([shellcheck, str(SMOKE)], capture_output=True, text=True)
        assert result.returncode == 0, result.stdout


@pytest.mark.parametrize("path", DOCKERFILES, ids=lambda p: p.name)
def test_the_build_arguments_smoke_sh_passes_are_the_dockerfiles_own(path: Path) -> None:
    """smoke.sh replaces the public bases with local ones through build arguments, and
    reads uv's version from the Dockerfile's UV_IMAGE line: both must stay in step."""
    text = path.read_text()
    smoke = SMOKE.read_text()
    for name in ("PYTHON_IMAGE", "UV_IMAGE", "EXTRAS"):
        assert f"ARG {name}=" in text
        assert f"{name}=" in smoke
    (uv_line,) = [line for line in text.splitlines() if line.startswith("ARG UV_IMAGE=")]
    assert re.fullmatch(r"ARG UV_IMAGE=ghcr\.io/astral-sh/uv:[0-9.]+", uv_line)
    assert "FROM ${UV_IMAGE} AS uv" in text and "COPY --from=uv /uv " in text
    assert "ARG PYTHON_IMAGE=python:3" in text  # the public base stays the default
