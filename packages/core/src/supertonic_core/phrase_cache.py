"""A bounded cache of synthesized short phrases, for what agents say again and again.

"Sure.", "One moment, please.", "Let me check that for you.": a voice agent opens many
replies with the same few words, and the first chunk of a reply is what its caller waits
for. A hit serves the audio at once instead of a second of compute.

The key is everything that decides the audio: the text as the model receives it (token
ids, so language tags and preprocessing are included), the voice's style arrays (a blend
or a custom voice hashes by value), speed, steps and the noise seed. A request without a
seed asks for any draw of the model's output, so its chunks are keyed with no seed and a
cached draw serves it; a request with a seed gets exactly that seed's audio. The
scheduler consults the cache when a chunk is submitted and fills it when one is done.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np

from .errors import InvalidOptionError
from .voices import VoiceStyle

#: Chunks of more token ids than this (about 80 characters, with the language tags) are not
#: cached: they rarely repeat word for word.
MAX_PHRASE_IDS = 90


@dataclass(frozen=True)
class PhraseKey:
    ids: bytes
    style: bytes
    speed: float
    steps: int
    seed: int | None


def style_digest(style: VoiceStyle) -> bytes:
    """A voice by value: two names for the same arrays share cache entries."""
    digest = hashlib.blake2b(digest_size=16)
    digest.update(np.ascontiguousarray(style.ttl).tobytes())
    digest.update(np.ascontiguousarray(style.dp).tobytes())
    return digest.digest()


class PhraseCache:
    """Least-recently-used cache of chunk waveforms, at most ``capacity`` entries.

    Thread-safe: streams read it on the event loop, and may fill it from any thread.
    """

    def __init__(self, capacity: int) -> None:
        if isinstance(capacity, bool) or not isinstance(capacity, int) or capacity < 1:
            raise InvalidOptionError("phrase_cache", capacity, "a positive number of entries")
        self.capacity = capacity
        self.hits = 0
        self.misses = 0
        self._entries: OrderedDict[PhraseKey, np.ndarray] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, key: PhraseKey) -> np.ndarray | None:
        with self._lock:
            wav = self._entries.get(key)
            if wav is None:
                self.misses += 1
                return None
            self._entries.move_to_end(key)
            self.hits += 1
            return wav

    def put(self, key: PhraseKey, wav: np.ndarray) -> None:
        wav = np.array(wav, dtype=np.float32)  # our own copy, read-only
        wav.flags.writeable = False
        with self._lock:
            old = self._entries.pop(key, None)
            if old is not None:
                self._bytes -= old.nbytes
            self._entries[key] = wav
            self._bytes += wav.nbytes
            while len(self._entries) > self.capacity:
                _, evicted = self._entries.popitem(last=False)
                self._bytes -= evicted.nbytes

    def clear(self) -> None:
        """Forget every entry (the hit and miss counts stay)."""
        with self._lock:
            self._entries.clear()
            self._bytes = 0

    def stats(self) -> dict[str, int]:
        """Hits, misses, entries and bytes held, for metrics."""
        with self._lock:
            return {
                "hits": self.hits,
                "misses": self.misses,
                "entries": len(self._entries),
                "bytes": self._bytes,
                "capacity": self.capacity,
            }
