"""Keep the server's resident memory flat under steady load.

glibc gives every thread that allocates an arena of its own (up to eight per core). ONNX
Runtime's pool, the scheduler's worker and the encoders' threads each allocate and free
audio-sized buffers, so freed memory ends up spread over many arenas, little of it is
returned to the system, and RSS creeps up request after request. Two arenas keep it flat
(``benchmarks/soak.py``); the cost is a little contention between threads that allocate at
once, which is not where this server spends its time.
"""

from __future__ import annotations

import ctypes
import os
import sys

_M_ARENA_MAX = -8  # glibc's mallopt parameter
ARENAS = 2


def limit_malloc_arenas(arenas: int = ARENAS) -> bool:
    """Cap glibc's malloc arenas for threads created from now on; True if applied.

    Does nothing off Linux, off glibc, or when ``MALLOC_ARENA_MAX`` is set (the operator's
    own choice wins; glibc read it at start-up).
    """
    if not sys.platform.startswith("linux") or "MALLOC_ARENA_MAX" in os.environ:
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):  # musl and others have no mallopt
        return False
    return bool(mallopt(_M_ARENA_MAX, arenas))
