"""ITU-T G.711 companding: μ-law (North America, Japan) and A-law (everywhere else).

Phone networks and telephony APIs (Twilio Media Streams, SIP trunks) carry 8 kHz G.711
bytes. Each law maps a 16-bit sample to one byte by the recommendation's segment rule,
here evaluated once for all 65,536 inputs into a table (encoding is then one lookup per
sample, exact by construction). The rule is the reference one (Sun's ``g711.c``, which
CPython's ``audioop`` also follows): μ-law works on 14 bits with a bias of 33 and inverts
every bit; A-law works on 13 bits and inverts the even bits (``0x55``). The tests check
every byte against an independent decoder.
"""

from __future__ import annotations

from typing import Literal

import numpy as np

Law = Literal["mulaw", "alaw"]

_SEGMENT_ENDS = {
    "mulaw": np.array([0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF, 0x1FFF]),
    "alaw": np.array([0x1F, 0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF]),
}
_MULAW_BIAS = 0x84 >> 2  # the bias, on 14-bit samples
_MULAW_CLIP = 8159


def _encode_table(law: Law) -> np.ndarray:
    """The byte of every int16 value (index: value + 32768)."""
    pcm = np.arange(-32768, 32768, dtype=np.int64)
    ends = _SEGMENT_ENDS[law]
    if law == "mulaw":
        value = pcm >> 2
        mask = np.where(value < 0, 0x7F, 0xFF)
        value = np.minimum(np.abs(value), _MULAW_CLIP) + _MULAW_BIAS
        seg = np.searchsorted(ends, value, side="left")
        code = (seg << 4) | ((value >> (seg + 1)) & 0xF)
    else:
        value = pcm >> 3
        mask = np.where(value >= 0, 0xD5, 0x55)
        value = np.where(value >= 0, value, -value - 1)
        seg = np.searchsorted(ends, value, side="left")
        shift = np.where(seg < 2, 1, seg)
        code = (seg << 4) | ((value >> shift) & 0xF)
    code = np.where(seg >= 8, 0x7F, code)
    return ((code ^ mask) & 0xFF).astype(np.uint8)


def _decode_table(law: Law) -> np.ndarray:
    """The int16 value of every byte."""
    byte = np.arange(256, dtype=np.int64)
    if law == "mulaw":
        u = ~byte & 0xFF
        t = (((u & 0x0F) << 3) + 0x84) << ((u & 0x70) >> 4)
        value = np.where(u & 0x80, 0x84 - t, t - 0x84)
    else:
        a = byte ^ 0x55
        seg = (a & 0x70) >> 4
        t = (a & 0x0F) << 4
        t = np.where(seg == 0, t + 8, np.where(seg == 1, t + 0x108, (t + 0x108) << (seg - 1)))
        value = np.where(a & 0x80, t, -t)
    return value.astype(np.int16)


_ENCODE = {law: _encode_table(law) for law in ("mulaw", "alaw")}
_DECODE = {law: _decode_table(law) for law in ("mulaw", "alaw")}


def encode(pcm16: np.ndarray, law: Law) -> bytes:
    """int16 samples → one G.711 byte each."""
    return _ENCODE[law][pcm16.astype(np.int32) + 32768].tobytes()


def decode(data: bytes, law: Law) -> np.ndarray:
    """G.711 bytes → int16 samples (for clients and examples)."""
    return _DECODE[law][np.frombuffer(data, dtype=np.uint8)]
