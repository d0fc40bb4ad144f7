"""Shared fixtures: one tiny synthetic bundle and one engine for the whole run, a loader
for the example scripts, and processes started as a user would (``spawn``, ``free_port``)."""

from __future__ import annotations

import importlib.util
import json
import socket
import subprocess
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from types import ModuleType

import pytest
from supertonic_core import Engine
from supertonic_core.bundle import Bundle, verify_bundle
from supertonic_core.synthetic import make_synthetic_bundle


@pytest.fixture(scope="session", autouse=True)
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The per-user data folder (custom voices) of everything the tests start, servers in
    subprocesses included: a fresh one, never the real user's."""
    folder = tmp_path_factory.mktemp("data")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SUPERTONIC_DATA_DIR", str(folder))
        yield folder


@pytest.fixture(scope="session")
def loopback_hub() -> Iterator[str]:
    """A loopback socket that accepts connections, as the Hub's address."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"


@pytest.fixture(autouse=True)
def hub_on_loopback(loopback_hub: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The Hugging Face Hub is a loopback socket for every test: the download's
    reachability check passes where a test fakes the Hub client, and nothing can reach the
    real Hub."""
    import huggingface_hub.constants

    monkeypatch.setattr(huggingface_hub.constants, "ENDPOINT", loopback_hub)


@pytest.fixture(scope="session")
def tiny_bundle_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_synthetic_bundle(tmp_path_factory.mktemp("bundles") / "tiny", profile="tiny")


@pytest.fixture(scope="session")
def tiny_bundle(tiny_bundle_dir: Path) -> Bundle:
    return verify_bundle(tiny_bundle_dir)


@pytest.fixture(scope="session")
def engine(tiny_bundle: Bundle) -> Iterator[Engine]:
    with Engine(tiny_bundle) as eng:
        eng.warmup()
        yield eng


EXAMPLES = Path(__file__).parents[1] / "examples"


@pytest.fixture(scope="session")
def load_example() -> Callable[[str], ModuleType]:
    """``load_example(name)`` imports ``examples/<name>.py`` by path (the folder is not a
    package) and returns the module, run afresh each call."""

    def load(name: str) -> ModuleType:
        spec = importlib.util.spec_from_file_location(f"_example_{name}", EXAMPLES / f"{name}.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module

    return load


@pytest.fixture
def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


Spawn = Callable[[Sequence[str], Mapping[str, str]], "subprocess.Popen[str]"]


@pytest.fixture
def spawn() -> Iterator[Spawn]:
    """Start a process (output and errors merged, as text); killed at teardown if the test
    left it running, so a failed test never leaks a server."""
    started: list[subprocess.Popen[str]] = []

    def start(argv: Sequence[str], env: Mapping[str, str]) -> subprocess.Popen[str]:
        proc = subprocess.Popen(
            list(argv), env=dict(env), text=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
        )
        started.append(proc)
        return proc

    yield start
    for proc in started:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()


@pytest.fixture(scope="module")
def brands(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A JSON pronunciation dictionary of one entry (the plugins' dictionary tests)."""
    path = tmp_path_factory.mktemp("lexicons") / "brands.json"
    path.write_text(json.dumps({"SQL": "structured query language"}), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def lexicon_server(tiny_bundle_dir: Path, brands: Path) -> Iterator[object]:
    """A live server started with ``--lexicon brands.json``."""
    from supertonic_server import Settings
    from supertonic_server.testing import LiveServer

    settings = Settings(model_dir=str(tiny_bundle_dir), lexicon_files=(str(brands),), warmup=False)
    server = LiveServer(settings).start()
    yield server
    server.stop()
