"""Supertonic-3 text-to-speech for LiveKit Agents.

Runs the Supertonic ONNX model in the agent's process, or talks to a Supertonic server.
See the package README for installation and usage.
"""

import os

from livekit.agents import Plugin

from .log import logger
from .models import TTSLanguages, TTSModels, TTSSampleRates, TTSVoices
from .tts import TTS, ChunkedStream, SynthesizeStream
from .version import __version__

__all__ = [
    "TTS",
    "ChunkedStream",
    "SynthesizeStream",
    "TTSLanguages",
    "TTSModels",
    "TTSSampleRates",
    "TTSVoices",
    "__version__",
]


class SupertonicPlugin(Plugin):
    def __init__(self) -> None:
        super().__init__(__name__, __version__, __package__, logger)

    def download_files(self) -> None:
        """Fetch the model into the cache (``python agent.py download-files``).

        A bundle that is already there (or named by ``SUPERTONIC_MODEL_DIR``) is only
        verified; ``SUPERTONIC_MODEL`` picks another model than supertonic-3.
        """
        from supertonic_core import resolve_bundle

        bundle = resolve_bundle(
            os.environ.get("SUPERTONIC_MODEL") or "supertonic-3",
            model_dir=os.environ.get("SUPERTONIC_MODEL_DIR") or None,
        )
        logger.info(
            "Supertonic model %s ready at %s%s",
            bundle.model,
            bundle.path,
            " (SYNTHETIC: random weights, the audio is noise)" if bundle.synthetic else "",
        )


Plugin.register_plugin(SupertonicPlugin())

# Cleanup docs of unexported modules
_module = dir()
NOT_IN_ALL = [m for m in _module if m not in __all__]

__pdoc__ = {}

for n in NOT_IN_ALL:
    __pdoc__[n] = False
