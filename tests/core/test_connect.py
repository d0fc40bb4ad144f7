"""Connectors and the shared mux, over real in-process sessions on the tiny bundle."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from supertonic_core import Engine, connect
from supertonic_core.client import SpeechClientError
from supertonic_core.connect import EngineConnector, Opened, SharedMux
from supertonic_core.mux import SpeechMux
from supertonic_core.protocol import AudioEnd


class Counting(EngineConnector):
    """An engine connector that counts the connections it opens."""

    def __init__(self, engine: Engine) -> None:
        super().__init__(engine=engine)
        self.opened = 0

    async def open(self, timeout: float | None = None) -> Opened:
        self.opened += 1
        await asyncio.sleep(0.01)  # callers arrive while it opens
        return await super().open(timeout)


async def test_callers_waiting_at_once_share_one_connection(engine: Engine) -> None:
    link = SharedMux(Counting(engine))
    muxes = await asyncio.gather(*(link.get() for _ in range(5)))
    assert len({id(m) for m in muxes}) == 1 and link.connector.opened == 1
    await link.aclose()
    assert engine.scheduler._threads[0].is_alive()  # an engine passed in is never closed


async def test_a_failed_on_open_closes_the_connection_and_the_next_get_retries(
    engine: Engine,
) -> None:
    calls: list[SpeechMux] = []

    async def refuse_once(mux: SpeechMux, opened: Opened) -> None:
        calls.append(mux)
        if len(calls) == 1:
            raise ValueError("settings refused")

    link = SharedMux(Counting(engine), on_open=refuse_once)
    with pytest.raises(ValueError, match="settings refused"):
        await link.get()
    assert not calls[0].alive and link.current is None
    assert await link.get() is calls[1] and calls[1].alive
    await link.aclose()


async def test_a_lost_connection_is_replaced_and_reported(engine: Engine) -> None:
    lost: list[Any] = []

    async def on_lost(reason: Any) -> None:
        lost.append(reason)

    link = SharedMux(Counting(engine), on_lost=on_lost)
    first = await link.get()
    await first.conn.aclose()  # the session ends under the link
    for _ in range(100):
        if lost:
            break
        await asyncio.sleep(0.01)
    assert len(lost) == 1 and link.current is None
    second = await link.get()
    assert second is not first and second.alive
    await link.aclose()
    assert len(lost) == 1  # closing the link is not a loss


async def test_an_unclean_release_retires_the_connection_after_its_last_context(
    engine: Engine,
) -> None:
    link = SharedMux(Counting(engine))
    mux = await link.get()
    done = mux.open()
    await done.send_text("Short.")
    await done.close()
    while not isinstance(await asyncio.wait_for(done.receive(), 20), AudioEnd):
        pass
    stuck, other = mux.open(), mux.open()

    async def never_acknowledged(timeout: float = 0) -> bool:
        return False

    stuck.cancel = never_acknowledged  # type: ignore[method-assign]
    assert await link.release(done)
    assert not await link.release(stuck)
    assert link.current is None and mux.alive  # retired, still serving `other`
    assert (await link.get()) is not mux
    assert await link.release(other)
    assert not mux.alive  # closed with its last context
    await link.aclose()


async def test_a_model_that_failed_to_load_is_not_loaded_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    loads: list[str] = []

    def failing_load(model: str, **kwargs: Any) -> Engine:
        loads.append(model)
        raise FileNotFoundError("no bundle here")

    monkeypatch.setattr(connect, "load_engine", failing_load)
    connector = EngineConnector(model_dir=tmp_path)
    for _ in range(2):
        with pytest.raises(RuntimeError, match="could not load the Supertonic model: no bundle"):
            await connector.open()
    assert loads == ["supertonic-3"]
    await connector.aclose()


def test_a_phrase_cache_for_an_engine_passed_in_is_refused(engine: Engine) -> None:
    with pytest.raises(ValueError, match="phrase_cache"):
        EngineConnector(engine=engine, phrase_cache=8)


@pytest.mark.parametrize(
    ("kwargs", "retryable"),
    [
        ({"code": "model_loading"}, True),
        ({"code": "unauthorized"}, False),
        ({"code": "some_future_code"}, True),
        ({"status": 401}, False),
        ({"status": 404}, False),
        ({"status": 503}, True),
        ({}, True),  # unreachable: the server may be starting
    ],
)
def test_which_client_errors_are_worth_retrying(kwargs: dict[str, Any], retryable: bool) -> None:
    assert SpeechClientError("x", **kwargs).retryable is retryable
