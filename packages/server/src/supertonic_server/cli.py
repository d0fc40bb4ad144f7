"""``supertonic-server``: read the settings, configure logging, run uvicorn."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
from collections.abc import Sequence

import uvicorn
from fastapi import FastAPI

from .app import create_app
from .logs import configure_logging
from .memory import limit_malloc_arenas
from .routes.ws import UVICORN_WS_OPTIONS
from .settings import load_settings
from .shutdown import FLUSH_S, GracefulServer

logger = logging.getLogger("supertonic_server")


def main(argv: Sequence[str] | None = None) -> int:
    try:
        settings = load_settings(argv)
    except ValueError as exc:
        print(f"supertonic-server: error: {exc}", file=sys.stderr)
        return 2
    configure_logging(settings.log_level)
    logger.info("settings: %s", settings.public())
    limit_malloc_arenas()  # before the engine's and the encoders' threads start
    if settings.exposed and not settings.api_keys:
        logger.warning(
            "listening on %s without an API key: anyone who can reach this address can use "
            "the server; pass --api-key (or SUPERTONIC_API_KEY) to require one",
            settings.host,
        )

    if settings.wyoming_port is not None and settings.exposed:
        logger.warning(
            "the Wyoming port %d on %s has no authentication (the protocol has none): "
            "expose it only to your Home Assistant's network",
            settings.wyoming_port,
            settings.host,
        )

    failures: list[BaseException] = []
    server: GracefulServer | None = None
    stopping = asyncio.Event()

    def on_fatal(exc: BaseException) -> None:
        failures.append(exc)
        stopping.set()
        if server is not None:
            server.should_exit = True

    app = create_app(settings, on_fatal=on_fatal)
    if not settings.http_enabled:
        asyncio.run(run_without_http(app, stopping))
        return 1 if failures else 0
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        log_config=None,
        log_level=settings.log_level,
        timeout_graceful_shutdown=FLUSH_S,  # type: ignore[arg-type]  # a float works
        lifespan="on",
        **UVICORN_WS_OPTIONS,  # type: ignore[arg-type]
    )
    server = GracefulServer(config, app)
    server.run()
    return 1 if failures else 0


async def run_without_http(app: FastAPI, stopping: asyncio.Event) -> None:
    """The app's lifespan (load and warm the engine, serve Wyoming, drain at the end) with no
    HTTP listener, until SIGTERM or SIGINT (or a fatal start-up error sets ``stopping``)."""
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stopping.set)
    async with app.router.lifespan_context(app):
        await stopping.wait()
        logger.info("stopping: draining the streams in flight")


def run() -> None:
    """The ``supertonic-server`` command: :func:`main`, then exit at once.

    Why not a normal exit: by then the engine is closed, every stream has ended and the
    logs are flushed here; what is left is the interpreter's teardown (modules, ONNX
    Runtime's and FFmpeg's destructors), 0.5 s on a quiet 2-core box and over 1.5 s on a
    loaded one, which would push the exit past the shutdown grace + 2 s that orchestrators
    are promised.
    """
    code = main()
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    run()
