"""Text and voices as the model takes them: a chunk's text to token ids, a voice to a style.

The one place a chunk becomes what the model reads (:func:`~.text.prepare_text`, then the
bundle's indexer), so streams, the engine's checks and the tests all encode alike; and the
one place a request's text is read aloud from (:meth:`FrontEnd.normalizer`: its rules,
pronunciation dictionaries and languages).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from typing import TYPE_CHECKING

from .detect import confident
from .errors import LexiconError, UnknownLexiconError
from .languages import LANGUAGES
from .normalize import StreamNormalizer
from .pronunciation import PronunciationDictionary, Pronunciations, entry
from .text import prepare_text

if TYPE_CHECKING:
    import numpy as np

    from .normalize import Detector
    from .options import SynthesisOptions
    from .text import TextIndexer
    from .voices import VoiceLibrary, VoiceStyle

#: The name of a request's inline entries (``pronunciations``) in messages.
INLINE = "pronunciations"


class FrontEnd:
    """Encodes chunk texts and resolves voices for one bundle.

    Args:
        indexer: the bundle's character table.
        voices: presets, custom voices and blends.
        tagged: the model reads language tags (``<en>…</en>``); supertonic v1 does not.
        languages: the languages the model speaks (what detection may answer).
        lexicons: the pronunciation dictionaries requests may name.
    """

    def __init__(
        self,
        indexer: TextIndexer,
        voices: VoiceLibrary,
        *,
        tagged: bool = True,
        languages: Iterable[str] = tuple(LANGUAGES),
        lexicons: Iterable[PronunciationDictionary] = (),
    ) -> None:
        self.indexer = indexer
        self.voices = voices
        self.tagged = tagged
        self.languages = tuple(languages)
        self.lexicons: dict[str, PronunciationDictionary] = {}
        for dictionary in lexicons:
            if dictionary.name in self.lexicons:  # requests name them: each name once
                raise LexiconError(dictionary.name, "two dictionaries of this name")
            self.lexicons[dictionary.name] = dictionary

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

    # ------------------------------------------------------------------ reading aloud

    def pronunciations(self, options: SynthesisOptions) -> Pronunciations | None:
        """The dictionaries ``options`` apply: its inline entries, then the named ones (all
        of :attr:`lexicons` when it names none); :class:`UnknownLexiconError` for a name
        not loaded."""
        names = tuple(self.lexicons) if options.lexicons is None else options.lexicons
        chosen = [_inline(tuple(options.pronunciations.items()))] if options.pronunciations else []
        for name in names:
            if name not in self.lexicons:
                raise UnknownLexiconError(name, self.lexicons)
            chosen.append(self.lexicons[name])
        return Pronunciations(chosen) if chosen else None

    def detector(self) -> Detector:
        """A sentence's language when detection is sure of it (among the model's)."""
        return functools.partial(confident, languages=self.languages)

    def normalizer(self, options: SynthesisOptions) -> StreamNormalizer | None:
        """What reads a request's text aloud: rules and dictionaries with ``normalize``,
        languages with ``detect_lang`` (alone, the text is kept as written); None with
        neither."""
        if not options.normalize and not options.detect_lang:
            return None
        return StreamNormalizer(
            options.lang,
            name_emoji=options.emoji == "name",
            pronunciations=self.pronunciations(options) if options.normalize else None,
            detect=self.detector() if options.detect_lang else None,
            rewrite=options.normalize,
            languages=self.languages,
        )


@functools.lru_cache(maxsize=64)
def _inline(items: tuple[tuple[str, str], ...]) -> PronunciationDictionary:
    """A request's own entries as a dictionary (compiled once for the same entries: a
    WebSocket context sends them once for all its utterances)."""
    return PronunciationDictionary(INLINE, (entry(k, v, source=INLINE) for k, v in items))
