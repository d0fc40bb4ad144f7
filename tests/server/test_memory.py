"""The malloc arena cap that keeps RSS flat in the soak (benchmarks/soak.py)."""

from __future__ import annotations

import subprocess
import sys

import pytest


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt")
def test_the_arena_cap_applies_on_glibc_and_yields_to_the_operators_setting() -> None:
    probe = "from supertonic_server.memory import limit_malloc_arenas as f; print(f())"
    applied = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert applied.stdout.strip() == "True", applied.stderr
    own = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        env={"MALLOC_ARENA_MAX": "4", "PATH": ""},
    )
    assert own.stdout.strip() == "False", own.stderr
