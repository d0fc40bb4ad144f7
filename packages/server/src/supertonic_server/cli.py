"""``supertonic-server``: read the settings, configure logging, run uvicorn."""

from __future__ import annotations

import logging
import sys
from collections.abc import Sequence

import uvicorn

from .app import create_app
from .logs import configure_logging
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
    if settings.exposed and not settings.api_keys:
        logger.warning(
            "listening on %s without an API key: anyone who can reach this address can use "
            "the server; pass --api-key (or SUPERTONIC_API_KEY) to require one",
            settings.host,
        )

    failures: list[BaseException] = []
    server: GracefulServer | None = None

    def on_fatal(exc: BaseException) -> None:
        failures.append(exc)
        if server is not None:
            server.should_exit = True

    app = create_app(settings, on_fatal=on_fatal)
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        log_config=None,
        log_level=settings.log_level,
        timeout_graceful_shutdown=FLUSH_S,  # type: ignore[arg-type]  # a float works
        lifespan="on",
    )
    server = GracefulServer(config, app)
    server.run()
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
