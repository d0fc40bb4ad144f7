"""Supertonic-3 text-to-speech for Pipecat.

``SupertonicTTSService`` runs the model in-process; ``SupertonicServerTTSService`` talks to
a Supertonic server over its WebSocket protocol. Both share settings, word timestamps,
interruption handling and metrics.
"""

from .tts import (
    LANGUAGE_MAP,
    SupertonicBaseTTSService,
    SupertonicServerTTSService,
    SupertonicTTSService,
    SupertonicTTSSettings,
    language_to_supertonic_language,
)
from .version import __version__

__all__ = [
    "LANGUAGE_MAP",
    "SupertonicBaseTTSService",
    "SupertonicServerTTSService",
    "SupertonicTTSService",
    "SupertonicTTSSettings",
    "__version__",
    "language_to_supertonic_language",
]
