"""Language codes the Supertonic models were trained with."""

from __future__ import annotations

from .errors import UnknownLanguageError

#: Supertonic-3's 31 languages plus ``na``, the tag for text of no known language.
LANGUAGES: dict[str, str] = {
    "en": "English",
    "ko": "Korean",
    "ja": "Japanese",
    "ar": "Arabic",
    "bg": "Bulgarian",
    "cs": "Czech",
    "da": "Danish",
    "de": "German",
    "el": "Greek",
    "es": "Spanish",
    "et": "Estonian",
    "fi": "Finnish",
    "fr": "French",
    "hi": "Hindi",
    "hr": "Croatian",
    "hu": "Hungarian",
    "id": "Indonesian",
    "it": "Italian",
    "lt": "Lithuanian",
    "lv": "Latvian",
    "nl": "Dutch",
    "pl": "Polish",
    "pt": "Portuguese",
    "ro": "Romanian",
    "ru": "Russian",
    "sk": "Slovak",
    "sl": "Slovenian",
    "sv": "Swedish",
    "tr": "Turkish",
    "uk": "Ukrainian",
    "vi": "Vietnamese",
    "na": "No specific language",
}

#: Languages written without spaces between words: chunked by characters, not words.
SCRIPT_CONTINUOUS = frozenset({"ja"})


def check_language(lang: str, allowed: tuple[str, ...] | None = None) -> str:
    """Return ``lang`` normalised to lower case, or raise naming the valid codes.

    Case and surrounding spaces are ignored (``"EN"``, ``" ko "``), where the official
    package refuses anything but the exact lower-case code; the model gets the same tag.
    ``allowed`` narrows the set for older models (supertonic-2 speaks five languages).
    """
    code = lang.strip().lower() if isinstance(lang, str) else lang
    valid = allowed if allowed is not None else tuple(LANGUAGES)
    if code not in valid:
        raise UnknownLanguageError(str(lang), valid)
    return code
