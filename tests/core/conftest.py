"""Fixtures of the core's tests."""

from __future__ import annotations

import pytest
from supertonic_core import Engine


@pytest.fixture
def released_split(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> Engine:
    """The shared engine, its streams' chunks split as the text releases them and never
    sized by the listener's lead (as before costs are measured): for a test that names the
    chunks it expects, or compares audio of two runs, whatever the machine's speed."""
    monkeypatch.setattr(engine.scheduler, "speech_budget", lambda *args: None)
    return engine
