"""How many workers a machine gets: the choice from injected core counts and measured
rates, each worker's options, and an engine running the workers chosen."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import supertonic_core.engine as engine_module
from supertonic_core import Engine, InvalidOptionError
from supertonic_core.runtime import RuntimeOptions
from supertonic_core.scheduler import Scheduler
from supertonic_core.workers import (
    choose_workers,
    cpu_splits,
    visible_gpus,
    worker_options,
)


@pytest.mark.parametrize(
    ("cores", "splits"),
    [(2, [1]), (7, [1]), (8, [1, 2]), (32, [1, 2, 4, 8]), (64, [1, 2, 4, 8, 16])],
)
def test_a_worker_keeps_four_threads(cores: int, splits: list[int]) -> None:
    assert cpu_splits(cores) == splits


@pytest.mark.parametrize(
    ("rates", "chosen", "measured"),
    [
        ({1: 10.0}, 1, []),  # nothing to choose from: nothing measured
        ({1: 10.0, 2: 11.0}, 1, [1, 2]),  # two sessions barely beat one
        ({1: 10.0, 2: 19.0, 4: 30.0, 8: 31.0}, 4, [1, 2, 4, 8]),  # memory-bound past 4
        ({1: 10.0, 2: 9.0, 4: 40.0}, 1, [1, 2]),  # the search stops at the first loss
    ],
)
def test_workers_double_while_the_rate_keeps_rising(
    rates: dict[int, float], chosen: int, measured: list[int]
) -> None:
    asked: list[int] = []

    def rows_per_s(workers: int) -> float:
        asked.append(workers)
        return rates[workers]

    assert choose_workers(sorted(rates), rows_per_s) == chosen
    assert asked == measured


def test_each_worker_gets_its_share_of_cores_or_its_gpu() -> None:
    cpu = RuntimeOptions(device="cpu")
    assert [o.intra_threads for o in worker_options(cpu, 4, cores=32, gpus=0)] == [8] * 4
    assert worker_options(cpu, 1, cores=32, gpus=0) == [cpu]  # every core, as ever
    pinned = RuntimeOptions(device="cpu", intra_threads=3)
    assert [o.intra_threads for o in worker_options(pinned, 2, cores=32, gpus=0)] == [3, 3]
    gpu = RuntimeOptions(device="cuda", device_id=1)
    assert [o.device_id for o in worker_options(gpu, 3, cores=32, gpus=2)] == [1, 0, 1]


def test_visible_gpus_are_those_named_else_the_devices(tmp_path: Path) -> None:
    assert visible_gpus({"CUDA_VISIBLE_DEVICES": "0,3"}, tmp_path) == 2
    assert visible_gpus({"CUDA_VISIBLE_DEVICES": ""}, tmp_path) == 0
    assert visible_gpus({"CUDA_VISIBLE_DEVICES": "-1"}, tmp_path) == 0
    for name in ("nvidia0", "nvidia1", "nvidiactl", "nvidia-uvm"):
        (tmp_path / name).touch()
    assert visible_gpus({}, tmp_path) == 2


def test_workers_is_auto_or_a_positive_number() -> None:
    for bad in (0, -1, "two", 1.5):
        with pytest.raises(InvalidOptionError, match="workers"):
            RuntimeOptions(workers=bad)  # type: ignore[arg-type]


def test_two_workers_speak_as_one(tiny_bundle, monkeypatch: pytest.MonkeyPatch) -> None:
    """Same text, same seed: the same samples from two workers as from one (chunks split
    as the text releases them, not sized by the measured speed, which differs run to run)."""
    monkeypatch.setattr(Scheduler, "speech_budget", lambda *args: None)
    text = "Two workers share the calls. Each sentence may run on either. The audio is one."
    audio = []
    for workers in (1, 2):
        options = RuntimeOptions(device="cpu", intra_threads=1, workers=workers)
        with Engine(tiny_bundle, runtime=options) as engine:
            assert engine.scheduler.workers == workers
            audio.append(engine.synthesize(text, engine.options(seed=3)))
    np.testing.assert_array_equal(*audio)


def test_auto_on_a_small_cpu_keeps_one_worker_and_measures_nothing(
    tiny_bundle, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(engine_module, "cpu_cores", lambda: 6)
    monkeypatch.setattr(engine_module, "measure_rows_per_s", pytest.fail)
    with Engine(tiny_bundle, runtime=RuntimeOptions(device="cpu")) as engine:
        engine.warmup()
        assert engine.scheduler.workers == 1
        assert engine.runtime.options.intra_threads is None


def test_auto_on_a_big_cpu_runs_the_split_measured_fastest(
    tiny_bundle, monkeypatch: pytest.MonkeyPatch
) -> None:
    """32 cores (injected), rates by worker count (injected): real runtimes are loaded for
    each split measured, and the engine runs the one chosen."""
    rates = {1: 10.0, 2: 19.0, 4: 30.0, 8: 31.0}
    measured: list[list[int | None]] = []

    def rows_per_s(runtimes, request, **_: object) -> float:
        measured.append([r.options.intra_threads for r in runtimes])
        return rates[len(runtimes)]

    monkeypatch.setattr(engine_module, "cpu_cores", lambda: 32)
    monkeypatch.setattr(engine_module, "measure_rows_per_s", rows_per_s)
    with Engine(tiny_bundle, runtime=RuntimeOptions(device="cpu")) as engine:
        engine.warmup()
        assert measured == [[None], [16] * 2, [8] * 4, [4] * 8]
        assert engine.scheduler.workers == 4
        assert engine.scheduler.state()["workers"] == 4
        assert engine.runtime.options.intra_threads == 8
        assert engine.synthesize("Served by four workers.").size > 0
