"""Server memory under WebSocket clients that never read: what one such socket can make the
server hold.

Each case opens raw sockets (a hand-made handshake and frames, so nothing on the client
side reads: not even a library's buffer), sends its messages until the server stops
reading in turn (a send that makes no progress for 5 s) or all are sent, then samples the
server's resident memory; then closes and samples again. Cases:

- ``unknown types``: 4,000 messages whose ``type`` is a 60 KB name (each answered with an
  error that quotes it);
- ``unknown config fields``: the same with a 60 KB field name in a ``config``;
- ``long replies``: 4 sockets each ask for a 4,000-character reply as float32 at 48 kHz
  (about 3 MB of base64 per chunk) and read none of it.

    uv run python benchmarks/slow_reader.py
"""

from __future__ import annotations

import base64
import json
import os
import socket
import struct
import time
from collections.abc import Iterator

from common import free_port, machine_and_bundle, start_server
from soak import status_of

LONG_REPLY = ("A long sentence that goes on, with many words in it, to make a lot of audio. " * 52)[
    :4000
]


def frame(payload: bytes) -> bytes:
    """One masked text frame (a zero mask: clients must mask, any key will do)."""
    n = len(payload)
    if n < 126:
        head = bytes([0x81, 0x80 | n])
    elif n < 1 << 16:
        head = bytes([0x81, 0x80 | 126]) + struct.pack(">H", n)
    else:
        head = bytes([0x81, 0x80 | 127]) + struct.pack(">Q", n)
    return head + b"\0\0\0\0" + payload


def open_socket(port: int) -> socket.socket:
    """A WebSocket to the speech route whose receive buffer is as small as the kernel allows."""
    sock = socket.create_connection(("127.0.0.1", port))
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall(
        f"GET /v1/audio/speech/stream HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
        f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n".encode()
    )
    sock.settimeout(5)
    answer = b""
    while b"\r\n\r\n" not in answer:  # frames sent before the 101 would be dropped
        answer += sock.recv(1)
    assert answer.startswith(b"HTTP/1.1 101"), answer
    return sock


def send_all(sock: socket.socket, messages: Iterator[dict]) -> int:
    """Messages sent before the server stopped reading (5 s without progress)."""
    sent = 0
    try:
        for message in messages:
            sock.sendall(frame(json.dumps(message).encode()))
            sent += 1
    except TimeoutError:
        pass
    return sent


def case(
    pid: int, port: int, sockets: int, messages: list[dict]
) -> tuple[int, float, float, float]:
    before, _ = status_of(pid)
    opened = [open_socket(port) for _ in range(sockets)]
    sent = sum(send_all(sock, iter(messages)) for sock in opened)
    time.sleep(5)  # what the server holds once it has done all it will do
    held, _ = status_of(pid)
    for sock in opened:
        sock.close()
    time.sleep(3)
    after, _ = status_of(pid)
    return sent, before, held, after


def main() -> int:
    bundle = machine_and_bundle("tiny")
    port = free_port()
    server = start_server(port, "--no-warmup", bundle=bundle)
    big = "x" * 60_000
    cases = {
        "unknown types (1 socket)": (1, [{"type": f"{big}{i}"} for i in range(4000)]),
        "unknown config fields (1 socket)": (
            1,
            [{"type": "config", f"{big}{i}": 1} for i in range(4000)],
        ),
        "long replies, f32 48 kHz (4 sockets)": (
            4,
            [
                {"type": "config", "encoding": "pcm_f32le", "sample_rate": 48000},
                {"type": "text", "text": LONG_REPLY},
                {"type": "flush"},
            ],
        ),
    }
    try:
        print(f"\n{'case':40} {'sent':>6} {'RSS before':>11} {'held':>8} {'closed':>8}")
        for name, (sockets, messages) in cases.items():
            sent, before, held, after = case(server.proc.pid, port, sockets, messages)
            print(f"{name:40} {sent:6d} {before:9.0f}MB {held:6.0f}MB {after:6.0f}MB")
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
