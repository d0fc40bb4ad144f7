"""``python -m supertonic_server.probe``: exit 0 when the server is ready.

Why: container health checks (Docker's ``HEALTHCHECK``) run a command inside the image, and
the slim images carry no curl. This reads the same settings as the server (flags and
``SUPERTONIC_*`` variables), so it asks the port the server listens on; a wildcard bind
address is probed on loopback. With HTTP on, ready is ``/readyz`` saying 200; with
``--no-http`` (Wyoming alone), a Wyoming ``describe`` answered with our voices.
"""

from __future__ import annotations

import asyncio
import sys
import urllib.error
import urllib.request
from collections.abc import Sequence

from wyoming.client import AsyncTcpClient
from wyoming.info import Describe, Info

from .settings import Settings, load_settings

#: Straight to the server, whatever proxy the environment names.
_direct = urllib.request.build_opener(urllib.request.ProxyHandler({}))
_WILDCARDS = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}


def local_host(host: str) -> str:
    """Where a server bound to ``host`` is reached from this machine."""
    return _WILDCARDS.get(host, host)


def readyz_url(host: str, port: int) -> str:
    """The ``/readyz`` URL of a server bound to ``host:port``."""
    host = local_host(host)
    if ":" in host:  # an IPv6 literal
        host = f"[{host}]"
    return f"http://{host}:{port}/readyz"


async def _describe(host: str, port: int) -> bool:
    async with AsyncTcpClient(host, port) as client:
        await client.write_event(Describe().event())
        event = await client.read_event()
    return event is not None and Info.is_type(event.type) and bool(Info.from_event(event).tts)


def probe_wyoming(settings: Settings, timeout: float) -> int:
    """Wyoming alone: ready when a ``describe`` is answered with a TTS program."""
    host, port = local_host(settings.host), settings.wyoming_port or 0
    try:
        ok = asyncio.run(asyncio.wait_for(_describe(host, port), timeout))
    except (OSError, TimeoutError) as exc:
        print(f"tcp://{host}:{port}: {exc or type(exc).__name__}")
        return 1
    print(f"tcp://{host}:{port}: {'ready' if ok else 'no TTS program described'}")
    return 0 if ok else 1


def probe(argv: Sequence[str] | None = None, timeout: float = 3.0) -> int:
    """0 if ready, 1 if not (or not answering), with one line saying which."""
    settings = load_settings(argv)
    if not settings.http_enabled:
        return probe_wyoming(settings, timeout)
    url = readyz_url(settings.host, settings.port)
    try:
        with _direct.open(url, timeout=timeout) as response:
            print(f"{url}: {response.status}")
            return 0
    except urllib.error.HTTPError as exc:
        print(f"{url}: {exc.code} {exc.read(300).decode(errors='replace')}")
    except OSError as exc:
        print(f"{url}: {exc}")
    return 1


if __name__ == "__main__":
    sys.exit(probe())
