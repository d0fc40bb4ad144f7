"""The voice library of Supertone's API: our ten presets as Supertone ``Voice`` objects.

``GET /v1/voices``, ``/v1/voices/search`` and ``/v1/voices/{voice_id}``. A voice's id is
the preset's name (``F1``..``M5``), which the text-to-speech routes take as ``voice_id``
(with custom voices, OpenAI names and blends). The SDK requires every field below; the
facts Supertonic does not state about its presets (age, use cases) are nominal and the
same for all ten, and each voice has one style, ``neutral``, which is also the default.
Custom voices are listed by their own routes, as in the cloud.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from supertonic_core import OPENAI_VOICES, PRESETS

from ..state import require_engine
from . import paging
from .errors import SupertoneError, SupertoneRoute, documented
from .schemas import MODELS

router = APIRouter(
    route_class=SupertoneRoute, tags=["supertone"], responses=documented(400, 401, 404, 413, 503)
)

STYLES = ("neutral",)
AGE = "young-adult"
USE_CASES = ("narration", "audiobook", "conversational", "advertisement")
_SEARCH_LISTS = {"language": "language", "use_cases": "use_cases", "model": "models"}
_SEARCH_WORDS = {"gender": "gender", "age": "age", "use_case": "use_case"}


def preset_voice(name: str, languages: list[str]) -> dict[str, Any]:
    """The Supertone ``Voice`` object of preset ``name``."""
    gender = "female" if name.startswith("F") else "male"
    aliases = [alias for alias, preset in OPENAI_VOICES.items() if preset == name]
    also = f" (OpenAI names: {', '.join(aliases)})" if aliases else ""
    return {
        "voice_id": name,
        "name": name,
        "description": f"Supertonic-3 preset voice {name}, {gender}{also}.",
        "age": AGE,
        "gender": gender,
        "use_case": USE_CASES[0],
        "use_cases": list(USE_CASES),
        "language": languages,
        "styles": list(STYLES),
        "models": list(MODELS),
    }


def catalogue(request: Request) -> list[dict[str, Any]]:
    languages = list(require_engine(request).languages)
    languages = [code for code in languages if code != "na"]
    return [preset_voice(name, languages) for name in PRESETS]


def terms_match(text: str | None, query: str | None) -> bool:
    """Every space-separated word of ``query`` appears in ``text`` (case-insensitive)."""
    low = (text or "").lower()
    return all(term in low for term in (query or "").lower().split())


def _any_of(raw: str) -> set[str]:
    return {v.strip().lower() for v in raw.split(",") if v.strip()}


def _style_matches(raw: str, styles: list[str]) -> bool:
    """``a,b``: any of them; ``a;b``: all of them (mixing the two is refused earlier)."""
    have = {s.lower() for s in styles}
    if ";" in raw:
        return all(s.strip().lower() in have for s in raw.split(";") if s.strip())
    return bool(_any_of(raw) & have)


def matches(voice: dict[str, Any], filters: dict[str, str]) -> bool:
    """Supertone's search semantics, case-insensitive: words of ``name`` and ``description``
    all appear (partial match); a comma means "or"; in ``style`` a semicolon means "and"."""
    for key in ("name", "description"):
        if not terms_match(voice.get(key), filters.get(key)):
            return False
    for key, field in _SEARCH_WORDS.items():
        if key in filters and voice[field].lower() not in _any_of(filters[key]):
            return False
    for key, field in _SEARCH_LISTS.items():
        if key in filters and not _any_of(filters[key]) & {v.lower() for v in voice[field]}:
            return False
    return "style" not in filters or _style_matches(filters["style"], voice["styles"])


@router.get("/v1/voices", summary="List voices (Supertone)")
async def list_voices(
    request: Request, page_size: float | None = None, next_page_token: str | None = None
) -> dict[str, Any]:
    return paging.page(catalogue(request), page_size, next_page_token, paging.VOICES)


@router.get("/v1/voices/search", summary="Search voices (Supertone)")
async def search_voices(
    request: Request,
    page_size: float | None = None,
    next_page_token: str | None = None,
    name: str | None = None,
    description: str | None = None,
    language: str | None = None,
    gender: str | None = None,
    age: str | None = None,
    use_case: str | None = None,
    use_cases: str | None = None,
    style: str | None = None,
    model: str | None = None,
) -> dict[str, Any]:
    given = {
        "name": name,
        "description": description,
        "language": language,
        "gender": gender,
        "age": age,
        "use_case": use_case,
        "use_cases": use_cases,
        "style": style,
        "model": model,
    }
    filters = {k: v for k, v in given.items() if v is not None and v.strip()}
    if style and "," in style and ";" in style:
        raise SupertoneError(
            400, f"style {style!r} mixes ',' (any of) and ';' (all of): use one of the two"
        )
    found = [v for v in catalogue(request) if matches(v, filters)]
    return paging.page(found, page_size, next_page_token, paging.VOICES)


@router.get("/v1/voices/{voice_id}", summary="Get a voice (Supertone)")
async def get_voice(request: Request, voice_id: str) -> dict[str, Any]:
    for voice in catalogue(request):
        if voice["voice_id"] == voice_id:
            return voice
    raise SupertoneError(
        404,
        f"voice {voice_id!r} not found; preset voices: {', '.join(PRESETS)} "
        "(custom voices: GET /v1/custom-voices/{voice_id})",
    )
