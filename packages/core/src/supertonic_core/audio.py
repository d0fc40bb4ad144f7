"""Sample-level audio helpers shared by every transport: joins, sample formats, resampling.

Resampling keeps its filter state across chunks (``StreamResampler``): resampling each
chunk on its own puts a click at every chunk edge.
"""

from __future__ import annotations

import numpy as np
import soxr

from .errors import InvalidOptionError
from .punctuation import Mark, final_mark

SAMPLE_RATES = (8000, 16000, 22050, 24000, 44100, 48000)
FADE_S = 0.005

PARAGRAPH_PAUSE = 0.45
SENTENCE_PAUSE = 0.28
CLAUSE_PAUSE = 0.12
#: After a chunk that ends in neither a sentence nor a clause mark.
UNMARKED_PAUSE = 0.08


def pause_after(
    text: str, *, lang: str = "en", paragraph: bool = False, cut: bool = False
) -> float:
    """Seconds of silence that should follow a chunk ending like ``text`` does.

    The official pipeline puts 0.3 s between its chunks (packs of whole sentences); ours
    are sentences or clauses, so the pause follows the punctuation instead
    (:func:`~.punctuation.final_mark`: a sentence breathes longer than a clause).
    ``paragraph``: a blank line follows the chunk (chunk text has its whitespace collapsed,
    so the caller says so). ``cut``: the chunk ends inside a sentence, where a pause longer
    than a clause's would sound like a sentence end.
    """
    if paragraph:
        return PARAGRAPH_PAUSE
    mark = final_mark(text, lang)
    if mark is Mark.SENTENCE:
        return CLAUSE_PAUSE if cut else SENTENCE_PAUSE
    return CLAUSE_PAUSE if mark is Mark.CLAUSE else UNMARKED_PAUSE


def fade_edges(samples: np.ndarray, sample_rate: int, seconds: float = FADE_S) -> np.ndarray:
    """Short raised-cosine fade in and out, so chunk joins never click."""
    n = min(len(samples) // 2, int(sample_rate * seconds))
    if n <= 0:
        return samples
    out = samples.astype(np.float32, copy=True)
    ramp = (0.5 - 0.5 * np.cos(np.linspace(0.0, np.pi, n, dtype=np.float32))).astype(np.float32)
    out[:n] *= ramp
    out[-n:] *= ramp[::-1]
    return out


def to_int16(samples: np.ndarray) -> np.ndarray:
    """float32 in [-1, 1] → int16, clipped."""
    return (np.clip(samples, -1.0, 1.0) * 32767.0).astype(np.int16)


def check_sample_rate(rate: int) -> int:
    if rate not in SAMPLE_RATES:
        raise InvalidOptionError(
            "sample_rate", rate, f"one of {', '.join(str(r) for r in SAMPLE_RATES)}"
        )
    return rate


class StreamResampler:
    """float32 mono resampler that carries its state from one chunk to the next."""

    def __init__(self, in_rate: int, out_rate: int) -> None:
        self.in_rate = in_rate
        self.out_rate = out_rate
        self._stream = (
            None
            if in_rate == out_rate
            else soxr.ResampleStream(in_rate, out_rate, 1, "float32", "HQ")
        )

    def process(self, samples: np.ndarray, *, last: bool = False) -> np.ndarray:
        """Resample the next piece; ``last=True`` drains the filter's tail."""
        if self._stream is None:
            return samples.astype(np.float32, copy=False)
        return self._stream.resample_chunk(samples.astype(np.float32, copy=False), last=last)
