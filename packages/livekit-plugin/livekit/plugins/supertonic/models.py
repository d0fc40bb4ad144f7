from typing import Literal

TTSModels = Literal["supertonic-3", "supertonic-2", "supertonic"]
"""Supertonic model bundles; supertonic-3 speaks 31 languages, supertonic-2 five."""

TTSVoices = Literal[
    "F1",
    "F2",
    "F3",
    "F4",
    "F5",
    "M1",
    "M2",
    "M3",
    "M4",
    "M5",
    "alloy",
    "ash",
    "ballad",
    "cedar",
    "coral",
    "echo",
    "fable",
    "marin",
    "nova",
    "onyx",
    "sage",
    "shimmer",
    "verse",
]
"""Preset voices, and OpenAI's names mapped onto the nearest preset. Custom voice files and
blends such as ``"F1*0.7+M2*0.3"`` are accepted as plain strings too."""

TTSLanguages = Literal[
    "en",
    "ko",
    "ja",
    "ar",
    "bg",
    "cs",
    "da",
    "de",
    "el",
    "es",
    "et",
    "fi",
    "fr",
    "hi",
    "hr",
    "hu",
    "id",
    "it",
    "lt",
    "lv",
    "nl",
    "pl",
    "pt",
    "ro",
    "ru",
    "sk",
    "sl",
    "sv",
    "tr",
    "uk",
    "vi",
    "na",
]
"""Supertonic-3's language codes; ``na`` is text of no particular language."""

TTSSampleRates = Literal[8000, 16000, 22050, 24000, 44100, 48000]
"""Output rates; 44100 is the model's own, the others are resampled by the speech session."""
