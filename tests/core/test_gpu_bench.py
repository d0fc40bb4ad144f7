"""``benchmarks/gpu.py --simulate``: the GPU machine's one command runs end to end here,
so a lent GPU is spent measuring, not debugging the script. No timing is asserted."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).parents[2] / "benchmarks" / "gpu.py"


@pytest.mark.timeout(300)
def test_the_gpu_benchmark_runs_in_simulation(tiny_bundle_dir: Path, tmp_path: Path) -> None:
    # the script's tiny bundle is found in the cache it looks in, not built again
    shutil.copytree(tiny_bundle_dir, tmp_path / "supertonic-synthetic" / "tiny-seed0")
    env = {**os.environ, "SUPERTONIC_CACHE_DIR": str(tmp_path)}
    argv = [sys.executable, str(SCRIPT), "--simulate", "--levels", "1,2", "--seconds", "1"]
    done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr[-3000:]
    out = done.stdout
    assert out.startswith("SYNTHETIC bundle (tiny)")
    for name in ("device path on the CPU (simulated)", "CPU, "):
        for streams in (1, 2):
            assert f"| {name}" in out and f" | {streams} | " in out
    assert "most streams, no underrun" in out and "GPU memory used" in out
    assert "io_binding=True, buckets=True" in out  # the device path did run
