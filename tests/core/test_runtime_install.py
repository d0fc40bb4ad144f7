"""A runtime install (no ``synthetic`` extra, so no onnx) imports and serves; only building
a synthetic bundle asks for the extra."""

from __future__ import annotations

import subprocess
import sys

SCRIPT = """
import sys
sys.modules["onnx"] = None  # as if onnx were not installed
import supertonic_server.app, supertonic_core.cli, pipecat_supertonic
from livekit.plugins import supertonic
from supertonic_core.synthetic import make_synthetic_bundle
try:
    make_synthetic_bundle(sys.argv[1], profile="tiny")
except ModuleNotFoundError as exc:
    print(exc)
"""


def test_the_runtime_imports_without_onnx(tmp_path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(tmp_path / "bundle")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "supertonic-core[synthetic]" in done.stdout
