"""Text and voices as the model takes them: a chunk's text to token ids, a voice to a style.

The one place a chunk becomes what the model reads (:func:`~.text.prepare_text`, then the
bundle's indexer), so streams, the engine's checks and the tests all encode alike.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .text import prepare_text

if TYPE_CHECKING:
    import numpy as np

    from .text import TextIndexer
    from .voices import VoiceLibrary, VoiceStyle


class FrontEnd:
    """Encodes chunk texts and resolves voices for one bundle.

    Args:
        indexer: the bundle's character table.
        voices: presets, custom voices and blends.
        tagged: the model reads language tags (``<en>…</en>``); supertonic v1 does not.
    """

    def __init__(self, indexer: TextIndexer, voices: VoiceLibrary, *, tagged: bool = True) -> None:
        self.indexer = indexer
        self.voices = voices
        self.tagged = tagged

    def encode(self, text: str, lang: str, *, cut: bool = False) -> np.ndarray:
        """Token ids int64 ``[T]`` of one chunk, as the model was trained to read it.

        ``cut``: the chunk ends inside a sentence, so it gets no final period (see
        :func:`~supertonic_core.text.normalize_text`). Raises :class:`InvalidInputError`
        for text it cannot speak.
        """
        model_text = prepare_text(text, lang, self.indexer, cut=cut, tagged=self.tagged)
        ids, _ = self.indexer.encode([model_text])
        return ids[0]

    def style(self, voice: str) -> VoiceStyle:
        """The style of a voice name: a preset, a custom voice or a blend."""
        return self.voices.resolve(voice)
