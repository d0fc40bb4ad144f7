"""Drive the real ``supertone`` SDK: run in its own Python 3.12 environment, not by pytest.

Usage: ``python sdk_driver.py SERVER_URL API_KEY`` with a JSON list of calls on stdin,
each ``{"op": "text_to_speech.create_speech", "async": false, "kwargs": {...}}``. Prints
one JSON list: per call, what the SDK handed back, made plain (audio as base64 with the
sizes of the pieces it arrived in, models as dicts, headers), or the error it raised
(class, status code, message). A file argument ``{"$file": PATH, ...}`` is read as bytes.
Only the SDK and the standard library are used, so the script runs where the SDK lives.
"""

from __future__ import annotations

import asyncio
import base64
import json
import sys
from typing import Any

from supertone import Supertone, errors


def _bytes_kwargs(kwargs: dict[str, Any]) -> dict[str, Any]:
    files = kwargs.get("files")
    if isinstance(files, dict) and "$file" in files:
        with open(files.pop("$file"), "rb") as f:
            files["content"] = f.read()
    return kwargs


def _plain(value: Any) -> Any:
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json", by_alias=True)
    return value


def _audio(pieces: list[bytes]) -> dict[str, Any]:
    return {
        "kind": "audio",
        "audio_base64": base64.b64encode(b"".join(pieces)).decode(),
        "pieces": [len(p) for p in pieces],
    }


def _error(exc: Exception) -> dict[str, Any]:
    out: dict[str, Any] = {"kind": "error", "class": type(exc).__name__}
    out["status_code"] = getattr(exc, "status_code", None)
    data = getattr(exc, "data", None)
    message = getattr(getattr(data, "message", None), "message", None)
    out["message"] = message if isinstance(message, str) else str(exc)
    out["typed"] = isinstance(exc, errors.SupertoneError) and data is not None
    return out


def _result(response: Any) -> Any:
    """The result part of an operation's response, for the caller to read."""
    return getattr(response, "result", response)


def _headers(response: Any) -> dict[str, Any]:
    return dict(getattr(response, "headers", None) or {})


def _described(response: Any, result: Any, pieces: list[bytes] | None) -> dict[str, Any]:
    """What the SDK handed back: audio (read as ``pieces``), text, or a model."""
    if pieces is not None:
        body = _audio(pieces)
    elif isinstance(result, str):
        body = {"kind": "text", "text": result}
    else:
        body = {"kind": "model", "value": _plain(result)}
    return {**body, "headers": _headers(response), "type": type(result).__name__}


def call_sync(client: Supertone, op: str, kwargs: dict[str, Any]) -> dict[str, Any]:
    group, method = op.split(".")
    response = getattr(getattr(client, group), method)(**kwargs)
    result = _result(response)
    pieces = [p for p in result.iter_bytes() if p] if hasattr(result, "iter_bytes") else None
    return _described(response, result, pieces)


async def call_async(url: str, key: str, op: str, kwargs: dict[str, Any]) -> dict[str, Any]:
    client = Supertone(api_key=key, server_url=url)  # its async client belongs to this loop
    group, method = op.split(".")
    response = await getattr(getattr(client, group), f"{method}_async")(**kwargs)
    result = _result(response)
    pieces = None
    if hasattr(result, "aiter_bytes"):
        pieces = [p async for p in result.aiter_bytes() if p]
    elif hasattr(result, "iter_bytes"):  # a merged reply, already read
        pieces = [p for p in result.iter_bytes() if p]
    return _described(response, result, pieces)


def main() -> None:
    url, key = sys.argv[1], sys.argv[2]
    calls = json.load(sys.stdin)
    client = Supertone(api_key=key, server_url=url)
    out = []
    for call in calls:
        kwargs = _bytes_kwargs(dict(call.get("kwargs", {})))
        try:
            if call.get("async"):
                out.append(asyncio.run(call_async(url, key, call["op"], kwargs)))
            else:
                out.append(call_sync(client, call["op"], kwargs))
        except Exception as exc:  # reported to the test, which decides
            out.append(_error(exc))
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
