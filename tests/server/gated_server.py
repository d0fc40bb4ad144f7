"""``supertonic-server`` with its chunks behind a :class:`~supertonic_server.testing.ChunkGate`.

Run as ``python gated_server.py FD [server arguments]``: the real CLI (signals, exit status,
uvicorn) serves as usual, except that every chunk after a stream's first waits until a byte
arrives on the inherited file descriptor ``FD`` (a pipe the test holds). End of file leaves
the gate closed.
"""

from __future__ import annotations

import os
import sys
import threading

from supertonic_server import app, cli
from supertonic_server.testing import ChunkGate


def main() -> int:
    fd, argv = int(sys.argv[1]), sys.argv[2:]
    gate = ChunkGate()
    load = app.load_engine
    app.load_engine = lambda settings: gate.hold(load(settings))

    def open_on_signal() -> None:
        if os.read(fd, 1):
            gate.open()

    threading.Thread(target=open_on_signal, name="gate", daemon=True).start()
    return cli.main(argv)


if __name__ == "__main__":
    sys.exit(main())
