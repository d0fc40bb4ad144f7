"""What a stream hands the scheduler: immutable, so no field is written from two threads.

A stream decides what to synthesize (chunk extents, order, steps, seeds) and hands the
scheduler one :class:`ChunkRequest` per chunk; the scheduler keeps everything that changes
while the chunk is synthesized (its stage, latent and predicted duration) to itself and
answers with a future of the waveform. A stream's place among the scheduler's streams is a
:class:`Place`.
"""

from __future__ import annotations

import threading
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

    from .voices import VoiceStyle


class CancelToken:
    """Shared by every chunk of one stream; the scheduler checks it before each step."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()


@dataclass(frozen=True, eq=False)
class ChunkRequest:
    """One chunk to synthesize, as the model takes it.

    Args:
        ids: the chunk's token ids, int64 ``[T]`` (read-only once here).
        style: the voice.
        speed: speaking rate (the predicted duration is divided by it).
        steps: flow-matching steps.
        seed: seed of the chunk's starting noise; None draws a fresh one, and lets the
            phrase cache serve any earlier draw.
        stream: the :class:`Place` id of the stream it belongs to; 0 for none.
        index: its position in the stream (0: the first chunk, whose listener is waiting).
        token: cancels it.
    """

    ids: np.ndarray
    style: VoiceStyle
    speed: float
    steps: int
    seed: int | None = None
    stream: int = 0
    index: int = 0
    token: CancelToken = field(default_factory=CancelToken)

    def __post_init__(self) -> None:
        self.ids.flags.writeable = False


@dataclass(frozen=True, eq=False)
class Place:
    """A stream's place in the scheduler: ``admitted`` resolves when it may start."""

    id: int
    admitted: Future[None] = field(default_factory=Future)
