"""The application factory: ``create_app(settings)`` → a FastAPI app with a managed engine.

Start-up does not block the listening socket: the engine is loaded and warmed in a worker
thread while ``/healthz`` answers (``status: loading``) and ``/readyz`` says 503. Once warm,
the app is ready. If loading fails, the error is logged, ``/readyz`` keeps answering 503
with the reason, and ``on_fatal`` (the CLI passes one that stops the server with exit code
1) is called.

Shutdown (:mod:`.shutdown`): readiness fails at once, in-flight streams get up to
``settings.shutdown_grace`` seconds, what still runs is ended cleanly, and the engine is
closed, also one that was still loading when the stop began.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from supertonic_core import Engine
from supertonic_core import load_engine as load_core_engine
from supertonic_core.bundle import synthetic_dir
from supertonic_core.detect import warm_up as warm_language_detection
from supertonic_core.voices import custom_voices_dir, default_voices_dir

from .auth import ApiKeyMiddleware
from .body import BodyTimeoutMiddleware
from .encoders import warm_up as warm_encoders
from .errors import ErrorBoundaryMiddleware, install_error_handlers
from .logs import RequestIdMiddleware, install_filters
from .metrics import Metrics
from .routes import routers
from .settings import Settings
from .shutdown import drain
from .state import DRAINING, FAILED, READY, Lifecycle
from .supertone import install as install_supertone
from .version import __version__
from .wyoming_tts import start_wyoming

logger = logging.getLogger("supertonic_server")

EngineFactory = Callable[[Settings], Engine]

#: Response headers a browser page may read (CORS).
EXPOSED_HEADERS = [
    "X-Request-ID",
    "X-Sample-Rate",
    "X-Voice",
    "X-Language",
    "X-Language-Detection",
    "X-Audio-Encoding",
    "X-Speed",
    "X-Synthetic-Model",
    "Retry-After",
]


def load_engine(settings: Settings) -> Engine:
    """Build and warm up (unless ``--no-warmup``) the engine the settings describe, through
    the core's one loader (blocking: run it in a thread)."""
    model_dir = settings.model_dir
    if settings.synthetic:
        from supertonic_core.synthetic import make_synthetic_bundle  # the `synthetic` extra

        logger.warning(
            "building/using the SYNTHETIC %r bundle: random weights, noise output",
            settings.synthetic,
        )
        model_dir = str(
            make_synthetic_bundle(synthetic_dir(settings.synthetic), profile=settings.synthetic)
        )
    return load_core_engine(
        settings.model,
        warmup=settings.warmup_text if settings.warmup else False,
        model_dir=model_dir,
        runtime=settings.runtime_options(),
        voices_dir=settings.voices_dir,
        defaults=settings.synthesis_defaults(),
        max_streams=settings.max_concurrent,
        max_queue=settings.max_queue,
        phrase_cache=settings.phrase_cache,
        lexicons=settings.pronunciation_dictionaries(),
    )


def _build(app: FastAPI, factory: EngineFactory) -> Engine | None:
    """Build the engine (in a thread) and publish it, unless a shutdown began meanwhile:
    then close it here, since nobody else will (the task awaiting it was cancelled)."""
    engine = factory(app.state.settings)
    with app.state.engine_lock:
        if app.state.lifecycle.status != DRAINING:
            app.state.engine = engine
            return engine
    engine.close()
    logger.info("closed the engine that finished loading after the shutdown began")
    return None


async def _start(
    app: FastAPI, factory: EngineFactory, on_fatal: Callable[[BaseException], None] | None
) -> None:
    settings: Settings = app.state.settings
    lifecycle: Lifecycle = app.state.lifecycle
    try:
        engine = await asyncio.to_thread(_build, app, factory)
        if engine is None:
            return
        if settings.warmup:
            await asyncio.to_thread(warm_encoders, engine.sample_rate, (settings.pcm_sample_rate,))
            method = await asyncio.to_thread(warm_language_detection, engine.languages)
            logger.info("lang=auto uses the %s detector", method)
        lifecycle.status = READY
        info = engine.info()
        logger.info(
            "ready: model=%s providers=%s sample_rate=%d warmup=%s max_streams=%s max_queue=%d",
            info["model"],
            ",".join(info["providers"]),
            info["sample_rate"],
            settings.warmup,
            engine.scheduler.max_streams,
            settings.max_queue,
        )
        if info["synthetic"]:
            logger.warning("SYNTHETIC MODEL: every response is random-weight noise, not speech")
    except asyncio.CancelledError:
        raise
    except Exception as exc:
        lifecycle.status = FAILED
        lifecycle.error = str(exc)
        logger.error(
            "the model could not be loaded: %s",
            exc,
            exc_info=not isinstance(exc, ValueError | OSError),
        )
        if on_fatal is not None:
            on_fatal(exc)


async def _stop(app: FastAPI) -> None:
    """The lifespan's end: drain (already done when the CLI's server began with it)."""
    await drain(app)
    with app.state.engine_lock:
        engine: Engine | None = app.state.engine
    if engine is not None:
        await asyncio.to_thread(engine.close)
    logger.info("shutdown complete")


def _with_voices_dir(settings: Settings) -> tuple[Settings, str | None]:
    """``settings`` naming the custom voices folder it will use (``--voices-dir``, else the
    per-user default, made now), or unchanged with the reason custom voices are off."""
    try:
        folder = custom_voices_dir(settings.voices_dir)
    except OSError as exc:
        reason = f"the folder {default_voices_dir()} cannot be made: {exc.strerror or exc}"
        logger.warning("custom voices are off: %s; name one with --voices-dir", reason)
        return settings, reason
    return settings.model_copy(update={"voices_dir": str(folder)}), None


def create_app(
    settings: Settings | None = None,
    *,
    engine_factory: EngineFactory | None = None,
    on_fatal: Callable[[BaseException], None] | None = None,
) -> FastAPI:
    """The FastAPI app for ``settings``.

    Args:
        settings: defaults to ``Settings()``.
        engine_factory: builds the engine (in a thread) and warms it up; defaults to
            :func:`load_engine`. Embedders can pass ``lambda s: my_engine`` to serve an
            engine they loaded (and warmed: see ``supertonic_core.load_engine``).
        on_fatal: called if the engine cannot be built or warmed.
    """
    settings, voices_off = _with_voices_dir(settings or Settings())
    factory = engine_factory or load_engine
    install_filters()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.starting = asyncio.create_task(_start(app, factory, on_fatal))
        lag = asyncio.create_task(app.state.metrics.watch_loop(), name="event-loop-lag")
        wyoming = None
        if settings.wyoming_port is not None:  # shares the engine; drained by _stop
            wyoming = await start_wyoming(app.state, settings.host, settings.wyoming_port)
        try:
            yield
        finally:
            lag.cancel()
            await _stop(app)
            if wyoming is not None:
                await wyoming.stop()

    app = FastAPI(
        title="Supertonic TTS server",
        version=__version__,
        description="OpenAI-compatible streaming text-to-speech for Supertonic-3.",
        lifespan=lifespan,
        docs_url=None,  # routes/docs.py serves /docs from local files, not a CDN
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.engine = None
    app.state.engine_lock = threading.Lock()
    app.state.starting = None
    app.state.draining = None
    app.state.lifecycle = Lifecycle()
    app.state.metrics = Metrics(
        buffer_size=settings.observability_buffer_size, engine=lambda: app.state.engine
    )
    install_error_handlers(app)
    # Added innermost first: CORS → request id → error boundary → API keys → body timeout
    # → routes.
    app.add_middleware(BodyTimeoutMiddleware, timeout=settings.body_timeout)
    app.add_middleware(ApiKeyMiddleware, keys=settings.api_keys)
    app.add_middleware(ErrorBoundaryMiddleware)
    app.add_middleware(RequestIdMiddleware)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(settings.cors_origins),
            allow_methods=["*"],
            allow_headers=["*"],
            expose_headers=EXPOSED_HEADERS,
        )
    for router in routers(settings):
        app.include_router(router)
    if settings.supertone_enabled:
        install_supertone(app, settings, voices_off=voices_off)
    return app
