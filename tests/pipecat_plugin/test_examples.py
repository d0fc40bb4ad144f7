"""The Pipecat examples run end to end on a synthetic bundle (no model, no network)."""

from __future__ import annotations

import sys
import wave
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType

import pytest
from loguru import logger

EXAMPLES = Path(__file__).parents[2] / "examples"


@pytest.fixture(autouse=True)
def isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    # The synthetic bundle is cached under $SUPERTONIC_CACHE_DIR; the examples reset
    # loguru's handlers, which are put back afterwards.
    monkeypatch.setenv("SUPERTONIC_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.syspath_prepend(str(EXAMPLES))
    yield
    logger.remove()
    logger.add(sys.stderr)


def read_wav(path: Path) -> tuple[int, float]:
    with wave.open(str(path)) as w:
        assert (w.getnchannels(), w.getsampwidth()) == (1, 2)
        return w.getframerate(), w.getnframes() / w.getframerate()


def test_pipecat_to_wav(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    load_example: Callable[[str], ModuleType],
) -> None:
    out = tmp_path / "out.wav"
    code = load_example("pipecat_to_wav").main(
        ["--synthetic", "--as-llm", "--rate", "16000", "-o", str(out)]
    )
    assert code == 0
    rate, seconds = read_wav(out)
    assert rate == 16000 and seconds > 3
    printed = capsys.readouterr().out
    assert "heard." in printed and "noise, not speech" in printed


def test_pipecat_server(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    load_example: Callable[[str], ModuleType],
) -> None:
    out = tmp_path / "server.wav"
    code = load_example("pipecat_server").main(["--serve", "--synthetic", "-o", str(out)])
    assert code == 0
    rate, seconds = read_wav(out)
    assert rate == 24000 and seconds > 3
    assert "M2." in capsys.readouterr().out
