"""Shared fixtures: one tiny synthetic bundle and one engine for the whole run, and a loader
for the example scripts."""

from __future__ import annotations

import importlib.util
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType

import pytest
from supertonic_core import Engine
from supertonic_core.bundle import Bundle, verify_bundle
from supertonic_core.synthetic import make_synthetic_bundle


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
