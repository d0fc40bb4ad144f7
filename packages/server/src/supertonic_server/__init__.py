"""OpenAI-compatible streaming HTTP server for Supertonic TTS, on top of ``supertonic_core``."""

from .app import create_app, load_engine
from .settings import Settings, load_settings
from .version import __version__

__all__ = ["Settings", "__version__", "create_app", "load_engine", "load_settings"]
