"""The slim install: what ``supertonic-stack-server`` pulls in, and that it runs without the
extras (the plugins, the browsers, the test tools and ``onnx`` stay out of it)."""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
from importlib.metadata import PackageNotFoundError, requires

import pytest
from packaging.requirements import Requirement

SERVER = "supertonic-stack-server"
#: Distributions the server must never pull in by default: the agent frameworks, the
#: browser driver, the test runner, the JIT behind resampy (Pipecat's), and onnx (only the
#: synthetic-bundle generator needs it).
HEAVY = {"pipecat-ai", "livekit-agents", "playwright", "pytest", "numba", "llvmlite", "onnx"}


def _name(requirement: str) -> str:
    return re.sub(r"[-_.]+", "-", Requirement(requirement).name).lower()


def closure(dist: str, extras: frozenset[str] = frozenset()) -> set[str]:
    """Every distribution ``dist`` needs, as installed here, with only the named extras."""
    seen: set[str] = set()
    todo = [(dist, extras)]
    while todo:
        name, wanted = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        try:
            reqs = requires(name) or []
        except PackageNotFoundError:  # a marker-excluded or platform-only dependency
            continue
        for text in reqs:
            req = Requirement(text)
            env_ok = [
                req.marker is None or req.marker.evaluate({"extra": extra})
                for extra in (wanted or {""})
            ]
            if any(env_ok):
                todo.append((_name(text), frozenset(req.extras)))
    return seen


def test_the_server_install_carries_no_plugin_browser_or_test_stack() -> None:
    needed = closure(SERVER)
    assert {"supertonic-core", "onnxruntime", "fastapi", "uvicorn", "av"} <= needed
    assert not needed & HEAVY, sorted(needed & HEAVY)


def test_the_synthetic_extra_adds_onnx() -> None:
    assert "onnx" in closure(SERVER, frozenset({"synthetic"}))


def test_the_server_starts_without_onnx_and_names_the_extra_for_synthetic_bundles() -> None:
    """Run in a child whose ``import onnx`` fails, as in the slim install."""
    code = textwrap.dedent(
        """
        import sys

        class NoOnnx:
            def find_spec(self, name, path=None, target=None):
                if name == "onnx" or name.startswith("onnx."):
                    raise ModuleNotFoundError("No module named 'onnx'", name=name)

        sys.meta_path.insert(0, NoOnnx())
        from supertonic_server.app import create_app, load_engine
        from supertonic_server.settings import Settings
        from supertonic_core.cli import build_parser

        create_app(Settings())
        build_parser().parse_args(["synth", "x", "-o", "x.wav", "--synthetic", "tiny"])
        try:
            load_engine(Settings(synthetic="tiny"))
        except ImportError as exc:
            print(exc)
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert "the `synthetic` extra" in result.stdout
    assert "supertonic-stack-server[synthetic]" in result.stdout


@pytest.mark.parametrize("dist", ["pipecat-supertonic-stack", SERVER])
def test_our_distributions_do_not_take_names_of_other_projects(dist: str) -> None:
    """``supertonic-server`` and ``pipecat-supertonic`` on the package index are other
    projects; ours are installed under names of their own."""
    assert requires(dist) is not None
    for taken in ("supertonic-server", "pipecat-supertonic"):
        with pytest.raises(PackageNotFoundError):
            requires(taken)
