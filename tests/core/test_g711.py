"""G.711 against an independent codec: CPython's ``audioop`` (``audioop-lts`` from 3.13),
which follows the ITU reference code. Every one of the 65,536 int16 inputs and 256 bytes."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from supertonic_core import g711

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    import audioop

ALL_PCM = np.arange(-32768, 32768, dtype=np.int16)
CODECS = {
    "mulaw": (audioop.lin2ulaw, audioop.ulaw2lin),
    "alaw": (audioop.lin2alaw, audioop.alaw2lin),
}


@pytest.mark.parametrize("law", ["mulaw", "alaw"])
def test_every_sample_encodes_as_the_reference_does(law: str) -> None:
    encode, _ = CODECS[law]
    assert g711.encode(ALL_PCM, law) == encode(ALL_PCM.tobytes(), 2)


@pytest.mark.parametrize("law", ["mulaw", "alaw"])
def test_every_byte_decodes_as_the_reference_does(law: str) -> None:
    _, decode = CODECS[law]
    data = bytes(range(256))
    assert g711.decode(data, law).tolist() == np.frombuffer(decode(data, 2), "<i2").tolist()


def test_the_itu_anchor_values() -> None:
    """Silence is 0xFF in μ-law and 0xD5 in A-law; full scale is 0x80 / 0xAA (positive) and
    0x00 / 0x2A (negative): the bytes a phone network expects for them."""
    pcm = np.array([0, 32767, -32768], dtype=np.int16)
    assert g711.encode(pcm, "mulaw") == bytes([0xFF, 0x80, 0x00])
    assert g711.encode(pcm, "alaw") == bytes([0xD5, 0xAA, 0x2A])
