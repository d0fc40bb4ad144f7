"""A request body must arrive within a time bound (``--body-timeout``), else 408.

Why: uvicorn waits for a declared body as long as the client keeps the socket open, so a
client that announces 100 bytes and sends 10 held its connection and a request task open
indefinitely (a probe measured 15 s and more); a few hundred of those exhaust the server.
"""

from __future__ import annotations

import asyncio

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class BodyTimeoutMiddleware:
    """Gives each HTTP request ``timeout`` seconds, from its start, to deliver its whole body.

    Once the body is complete, ``receive`` is passed through untouched (a streaming
    response waits on it for the client's disconnect, for as long as the stream lasts). A
    late body raises an HTTP 408, which FastAPI's body reader lets through to the error
    handlers (any other exception there would become a 400), and the connection is closed.
    """

    def __init__(self, app: ASGIApp, timeout: float) -> None:
        self.app = app
        self.timeout = timeout

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        deadline = asyncio.get_running_loop().time() + self.timeout
        complete = False

        async def timed_receive() -> Message:
            nonlocal complete
            if complete:
                return await receive()
            try:
                async with asyncio.timeout_at(deadline):
                    message = await receive()
            except TimeoutError:
                raise HTTPException(
                    408,
                    f"the request body did not arrive within {self.timeout:g} s",
                    headers={"Connection": "close"},
                ) from None
            complete = message["type"] != "http.request" or not message.get("more_body", False)
            return message

        await self.app(scope, timed_receive, send)
