"""Shape buckets: the padded sizes every graph call is rounded up to.

On a GPU each new input shape costs something the first time it is seen: cuDNN chooses a
convolution algorithm for it, the memory arena grows, a CUDA graph is captured. A stream
makes chunks of every length, so with exact shapes first-audio times show spikes long
after start-up. With buckets, text lengths, latent lengths and batch sizes are rounded up
to the edges below, so after :func:`supertonic_core.device.warm_up` has visited each
bucket the hot path never meets a new shape. Padding is exact: text and latent padding is
masked in every graph but the vocoder, whose padding is cut away afterwards (see
:func:`supertonic_core.synthesis.vocode`), and padded batch rows repeat a real row and are
dropped.

The cost is padded work: up to twice the frames of a row just past an edge. On a GPU a
call's cost grows slowly with its size, so that is cheap; on a small CPU it is not, which
is why buckets are on by default only for GPU providers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeVar

#: Text ids per row: a chunk is at most ~300 characters (plus language tags).
TEXT_EDGES = (64, 128, 256, 512)
#: Latent frames per row (one frame is ~70 ms at 44.1 kHz): a first chunk fits in 64.
LATENT_EDGES = (32, 64, 128, 256, 512)
#: Rows per call.
BATCH_EDGES = (1, 2, 4, 8, 16, 32, 64)

_T = TypeVar("_T")


def _round_up(edges: Sequence[int], n: int) -> int:
    """The first edge at least ``n``; past the last one, the next multiple of it (a shape
    that warm-up did not visit, but still one of few)."""
    for edge in edges:
        if n <= edge:
            return edge
    return -(-n // edges[-1]) * edges[-1]


@dataclass(frozen=True)
class Buckets:
    """Bucket edges per dimension; :data:`EXACT` (no edges) keeps exact shapes."""

    text: tuple[int, ...] = TEXT_EDGES
    latent: tuple[int, ...] = LATENT_EDGES
    batch: tuple[int, ...] = BATCH_EDGES

    def text_len(self, n: int) -> int:
        return _round_up(self.text, n) if self.text else n

    def latent_len(self, n: int) -> int:
        return _round_up(self.latent, n) if self.latent else n

    def batch_size(self, n: int) -> int:
        return _round_up(self.batch, n) if self.batch else n

    def fill(self, items: Sequence[_T]) -> list[_T]:
        """``items`` padded to the bucketed batch size by repeating the last one: a copy of
        a real row keeps every padded row's numbers finite, and its result is dropped."""
        return [*items, *[items[-1]] * (self.batch_size(len(items)) - len(items))]


EXACT = Buckets(text=(), latent=(), batch=())
