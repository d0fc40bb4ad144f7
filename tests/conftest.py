"""Shared fixtures: one tiny synthetic bundle and one engine for the whole run."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

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
