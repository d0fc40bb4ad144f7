"""Voice styles: the ten presets, OpenAI's names for them, custom style files and blends.

A Supertonic voice is two small arrays (``style_ttl`` 50×256 for the flow model and
``style_dp`` 8×16 for the duration predictor), so a blend is simply their weighted mean.
Unknown names are always an error listing the valid ones: a silent fallback would hand a
caller a voice they did not ask for.
"""

from __future__ import annotations

import json
import math
import os
import re
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import platformdirs

from .errors import UnknownVoiceError, VoiceStyleError, quote_value

PRESETS: tuple[str, ...] = ("F1", "F2", "F3", "F4", "F5", "M1", "M2", "M3", "M4", "M5")

#: OpenAI's 13 voice names, each mapped onto the preset nearest in character.
OPENAI_VOICES: dict[str, str] = {
    "alloy": "F1",
    "coral": "F2",
    "sage": "F5",
    "verse": "F1",
    "marin": "F3",
    "nova": "F4",
    "shimmer": "F2",
    "onyx": "M1",
    "ash": "M1",
    "ballad": "M2",
    "cedar": "M3",
    "echo": "M4",
    "fable": "M5",
}

#: Most terms in a blend, and longest voice string (a name or a blend), in characters.
MAX_BLEND_TERMS = 16
MAX_VOICE_CHARS = 512

TTL_SHAPE = (50, 256)
DP_SHAPE = (8, 16)
_BLEND_TERM = re.compile(r"^\s*([A-Za-z0-9_.\-]+)\s*(?:\*\s*([0-9]*\.?[0-9]+))?\s*$")


@dataclass(frozen=True, eq=False)
class VoiceStyle:
    """One voice: ``ttl`` [50, 256] and ``dp`` [8, 16] float32 arrays, and the name it was asked by."""

    name: str
    ttl: np.ndarray
    dp: np.ndarray


def _array(obj: object, key: str, shape: tuple[int, ...], source: str) -> np.ndarray:
    if not isinstance(obj, dict) or key not in obj:
        raise VoiceStyleError(source, f"missing {key!r}")
    entry = obj[key]
    data = entry.get("data") if isinstance(entry, dict) else entry
    try:
        arr = np.asarray(data, dtype=np.float32)
    except (TypeError, ValueError) as exc:
        raise VoiceStyleError(source, f"{key} is not a numeric array ({exc})") from None
    if arr.size != int(np.prod(shape)):
        want = "x".join(map(str, (1, *shape)))
        raise VoiceStyleError(source, f"{key} has shape {list(arr.shape)}, expected {want}")
    if not np.all(np.isfinite(arr)):
        raise VoiceStyleError(source, f"{key} contains NaN or infinite values")
    return arr.reshape(shape)


def parse_style(obj: object, *, name: str, source: str) -> VoiceStyle:
    """Validate a decoded style JSON object (the Voice Builder format) into a :class:`VoiceStyle`."""
    ttl = _array(obj, "style_ttl", TTL_SHAPE, source)
    dp = _array(obj, "style_dp", DP_SHAPE, source)
    return VoiceStyle(name=name, ttl=ttl, dp=dp)


def load_style_file(path: str | Path, *, name: str | None = None) -> VoiceStyle:
    """Read one style JSON file; every problem names the file."""
    path = Path(path)
    try:
        obj = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise VoiceStyleError(str(path), "file not found") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise VoiceStyleError(str(path), f"not valid JSON ({exc})") from None
    return parse_style(obj, name=name or path.stem, source=str(path))


def _normalised(weights: list[float]) -> list[float]:
    """Positive finite weights scaled to sum to one (by the largest first, so that a sum
    of huge weights cannot overflow to infinity)."""
    top = max(weights)
    scaled = [w / top for w in weights]
    total = sum(scaled)
    return [w / total for w in scaled]


def blend(styles: list[tuple[VoiceStyle, float]], *, name: str) -> VoiceStyle:
    """Weighted mean of styles; weights (positive, finite) need not sum to one."""
    weights = _normalised([w for _, w in styles])
    ttl = sum(s.ttl * w for (s, _), w in zip(styles, weights, strict=True))
    dp = sum(s.dp * w for (s, _), w in zip(styles, weights, strict=True))
    return VoiceStyle(name=name, ttl=ttl.astype(np.float32), dp=dp.astype(np.float32))


def default_voices_dir() -> Path:
    """Where custom voices live when no folder is named: ``voices`` in the per-user data
    folder, ``$SUPERTONIC_DATA_DIR`` if set, else the platform's (``~/.local/share/supertonic``
    on Linux, ``~/Library/Application Support/supertonic`` on macOS, via ``platformdirs``).

    Why a default: voices created through the API (Supertone's ``create_cloned_voice``)
    need a place to live, and a server started as the README says should keep them.
    """
    root = os.environ.get("SUPERTONIC_DATA_DIR")
    base = Path(root).expanduser() if root else Path(platformdirs.user_data_dir("supertonic"))
    return base / "voices"


def custom_voices_dir(folder: str | Path | None) -> Path:
    """``folder`` as given (it must exist: a typo should fail, not start empty), else the
    default folder, made if missing (OSError when it cannot be)."""
    if folder is not None:
        return Path(folder)
    default = default_voices_dir()
    default.mkdir(parents=True, exist_ok=True)
    return default


class VoiceLibrary:
    """Resolves voice specs (presets, OpenAI names, custom files, blends) to styles.

    Args:
        presets_dir: the bundle's ``voice_styles`` folder.
        custom_dir: optional folder of extra ``*.json`` styles; each file's stem is its name.
            A custom voice may not reuse a preset or OpenAI name.
    """

    def __init__(self, presets_dir: str | Path, custom_dir: str | Path | None = None) -> None:
        self._files: dict[str, Path] = {}
        self._cache: dict[str, VoiceStyle] = {}
        self._lock = threading.Lock()
        presets_dir = Path(presets_dir)
        for name in PRESETS:
            self._files[name] = presets_dir / f"{name}.json"
        if custom_dir is not None:
            custom_dir = Path(custom_dir)
            if not custom_dir.is_dir():
                raise VoiceStyleError(str(custom_dir), "custom voice folder does not exist")
            for path in sorted(custom_dir.glob("*.json")):
                if path.stem in self._files or path.stem.lower() in OPENAI_VOICES:
                    raise VoiceStyleError(str(path), f"name {path.stem!r} is taken by a preset")
                self._files[path.stem] = path
                self._load(path.stem)  # validate eagerly: a bad file fails at start-up

    @property
    def custom(self) -> list[str]:
        """Names of the custom voices loaded from the custom folder."""
        with self._lock:
            return [n for n in self._files if n not in PRESETS]

    def names(self) -> list[str]:
        """Every accepted single-voice name: presets, custom voices, then OpenAI names."""
        return [*PRESETS, *self.custom, *OPENAI_VOICES]

    def add(self, name: str, path: str | Path) -> VoiceStyle:
        """Serve the style file at ``path`` as the custom voice ``name`` from now on.

        Why: voices created while the server runs (an upload) are usable at once. The
        file is validated first; a name taken by a preset or an OpenAI name is refused.
        """
        if name in PRESETS or name.lower() in OPENAI_VOICES:
            raise VoiceStyleError(str(path), f"name {name!r} is taken by a preset")
        style = load_style_file(path, name=name)
        with self._lock:
            self._files[name] = Path(path)
            self._cache[name] = style
        return style

    def remove(self, name: str) -> None:
        """Stop serving the custom voice ``name`` (streams that hold its style keep it)."""
        if name in PRESETS or name not in self._files:
            raise UnknownVoiceError(name, self.custom, "not a custom voice")
        with self._lock:
            self._files.pop(name, None)
            self._cache.pop(name, None)

    def canonical(self, spec: str) -> str:
        """The preset or custom name a single voice name maps to (``alloy`` → ``F1``)."""
        key = spec.strip()
        if key in self._files:
            return key
        upper, lower = key.upper(), key.lower()
        if upper in PRESETS:
            return upper
        if lower in OPENAI_VOICES:
            return OPENAI_VOICES[lower]
        raise UnknownVoiceError(spec, self.names())

    def resolve(self, spec: str) -> VoiceStyle:
        """Return the style for ``spec``: a name, or a blend such as ``F1*0.7+M2*0.3``."""
        terms = self._terms(spec)
        if len(terms) == 1 and "*" not in spec:
            return self._load(terms[0][0])
        return blend([(self._load(name), w) for name, w in terms], name=self.describe(spec))

    def describe(self, spec: str) -> str:
        """The canonical form of a spec, for headers and logs (``alloy*1+echo`` → ``F1*0.5+M4*0.5``)."""
        terms = self._terms(spec)
        if len(terms) == 1 and "*" not in spec:
            return terms[0][0]
        weights = _normalised([w for _, w in terms])
        return "+".join(f"{name}*{w:.3g}" for (name, _), w in zip(terms, weights, strict=True))

    def _terms(self, spec: str) -> list[tuple[str, float]]:
        """The (canonical name, weight) terms of a spec, every bound checked first.

        Why the bounds: a blend costs one array sum per term and its canonical form goes
        into a response header, so a 50,000-term string held the event loop for seconds and
        made a header no client accepts. Both bounds are checked on the raw string, before
        any parsing.
        """
        if not isinstance(spec, str) or not spec.strip():
            raise UnknownVoiceError(str(spec), self.names(), "empty voice name")
        if len(spec) > MAX_VOICE_CHARS:
            raise UnknownVoiceError(
                spec, self.names(), f"too long: at most {MAX_VOICE_CHARS} characters"
            )
        if "+" not in spec and "*" not in spec:
            return [(self.canonical(spec), 1.0)]
        parts = spec.split("+")
        if len(parts) > MAX_BLEND_TERMS:
            raise UnknownVoiceError(
                spec,
                self.names(),
                f"a blend of {len(parts)} terms: at most {MAX_BLEND_TERMS} terms",
            )
        terms = []
        for part in parts:
            match = _BLEND_TERM.match(part)
            if not match:
                detail = f"cannot read blend term {quote_value(part)}"
                raise UnknownVoiceError(spec, self.names(), detail)
            name, weight = self.canonical(match.group(1)), match.group(2)
            value = float(weight) if weight else 1.0
            if not 0 < value < math.inf:
                detail = f"the weight of {name} must be a positive finite number, got {quote_value(weight)}"
                raise UnknownVoiceError(spec, self.names(), detail)
            terms.append((name, value))
        return terms

    def _load(self, name: str) -> VoiceStyle:
        with self._lock:
            style = self._cache.get(name)
            if style is None:
                style = load_style_file(self._files[name], name=name)
                self._cache[name] = style
            return style
