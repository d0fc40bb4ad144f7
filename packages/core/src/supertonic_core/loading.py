"""The one way to load an engine for serving: resolve and load, warm up, or close again.

The server and both plugins load through :func:`load_engine`, so a warm-up that fails
never leaves a loaded engine (its ONNX sessions and scheduler thread) behind.
"""

from __future__ import annotations

from typing import Any

from .engine import WARMUP_TEXT, Engine


def load_engine(model: str = "supertonic-3", *, warmup: bool | str = True, **kwargs: Any) -> Engine:
    """Load ``model`` (see :meth:`Engine.load` for ``model_dir``, ``download``, ``runtime``
    and the engine's own options) and run one warm-up synthesis.

    Args:
        model: the bundle name.
        warmup: True for the default warm-up text, a string to warm up with it, False to
            skip it (the first request then pays the graph set-up).
        **kwargs: passed to :meth:`Engine.load`.

    Returns:
        The engine, ready; if the warm-up raises, the engine is closed and the error raised.
    """
    engine = Engine.load(model, **kwargs)
    if warmup:
        try:
            engine.warmup(WARMUP_TEXT if warmup is True else warmup)
        except BaseException:
            engine.close()
            raise
    return engine
