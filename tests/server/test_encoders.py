"""Each encoder: a valid, decodable file at the end, and playable from a prefix while streaming."""

from __future__ import annotations

import gc
import io
import os
import struct

import av
import lameenc
import numpy as np
import pytest
from supertonic_server.encoders import FORMATS, create_encoder

from .conftest import decode

RATE = 44100
SLACK = {"mp3": 3 * 1152, "aac": 3 * 1024}


def tone(n: int, rate: int = RATE) -> np.ndarray:
    return (0.4 * np.sin(2 * np.pi * 220 * np.arange(n) / rate)).astype(np.float32)


def encode_all(fmt: str, pieces: list[np.ndarray], rate: int = RATE) -> tuple[list[bytes], bytes]:
    encoder = create_encoder(fmt, rate)
    outs = [encoder.encode(p) for p in pieces]
    outs.append(encoder.finish())
    return outs, b"".join(outs)


@pytest.mark.parametrize("fmt", FORMATS)
def test_round_trip_keeps_length_and_rate(fmt: str) -> None:
    rate = 48000 if fmt == "opus" else RATE
    pieces = [tone(n, rate) for n in (2000, 7, 30000, 0, 12345)]
    total = sum(len(p) for p in pieces)
    _, data = encode_all(fmt, pieces, rate)
    samples, decoded_rate = decode(fmt, data, pcm_rate=rate)
    assert decoded_rate == rate
    assert total <= len(samples) <= total + SLACK.get(fmt, 0)
    # the waveform survives (lossy codecs: roughly)
    assert 0.2 < float(np.sqrt(np.mean(samples[: total // 2] ** 2))) < 0.4


@pytest.mark.parametrize("fmt", ["mp3", "opus", "aac", "flac", "wav"])
def test_a_prefix_is_already_playable(fmt: str) -> None:
    """What a client holds after a few chunks decodes: audio plays while it streams."""
    rate = 48000 if fmt == "opus" else RATE
    outs, _ = encode_all(fmt, [tone(rate, rate) for _ in range(3)], rate)
    prefix = b"".join(outs[:2])
    if fmt == "wav":
        samples, _ = decode("wav", prefix)
    else:
        with av.open(io.BytesIO(prefix)) as container:
            samples = np.concatenate(
                [f.to_ndarray().reshape(-1) for f in container.decode(audio=0)]
            )
    assert len(samples) > rate // 2


def test_int16_input_is_accepted() -> None:
    encoder = create_encoder("pcm", 24000)
    ints = np.array([0, 1000, -1000, 32767], dtype=np.int16)
    assert encoder.encode(ints) == ints.astype("<i2").tobytes()
    floats = np.array([0.0, 1.0, -1.0, 2.0], dtype=np.float32)
    assert np.frombuffer(encoder.encode(floats), "<i2").tolist() == [0, 32767, -32767, 32767]


def test_wav_header_uses_the_streaming_size_convention() -> None:
    encoder = create_encoder("wav", 16000)
    first = encoder.encode(tone(10, 16000))
    assert first[:4] == b"RIFF" and first[8:16] == b"WAVEfmt "
    assert struct.unpack("<I", first[4:8])[0] == 0xFFFFFFFF
    assert struct.unpack("<IHHIIHH", first[16:36]) == (16, 1, 1, 16000, 32000, 2, 16)
    assert first[36:40] == b"data" and struct.unpack("<I", first[40:44])[0] == 0xFFFFFFFF
    assert len(first) == 44 + 20
    assert encoder.encoding == "wav_s16le_16000_1ch"
    empty = create_encoder("wav", 16000)
    assert len(empty.finish()) == 44  # even with no audio, a valid (empty) file


def test_mp3_bitrate_fits_each_rate_and_opus_is_48k_only() -> None:
    assert create_encoder("mp3", 44100).encoding == "mp3_44100_1ch_128kbps"
    assert create_encoder("mp3", 22050).encoding == "mp3_22050_1ch_64kbps"
    assert create_encoder("mp3", 8000).encoding == "mp3_8000_1ch_32kbps"
    with pytest.raises(ValueError, match="48000"):
        create_encoder("opus", 24000)


#: What holds a codec's state (and, for PyAV, its threads): an encoder that was closed keeps none.
CODEC_OBJECTS = (av.container.OutputContainer, av.stream.Stream, lameenc.Encoder)


@pytest.mark.parametrize("fmt", FORMATS)
def test_an_abandoned_encoder_lets_go_of_its_codec_and_says_nothing_more(fmt: str) -> None:
    """close() (the client left mid-stream): the codec is released at once, and nothing more
    comes out, neither the codec's buffered frames nor the container's end; encode() is
    then an error, finish() returns nothing, and close() again does nothing."""
    encoder = create_encoder(fmt, 48000)
    assert any(isinstance(v, CODEC_OBJECTS) for v in vars(encoder).values()) == (
        fmt not in ("wav", "pcm")
    )
    encoder.encode(tone(5000, 48000))
    encoder.close()
    assert not [v for v in vars(encoder).values() if isinstance(v, CODEC_OBJECTS)]
    assert encoder.finish() == b""
    with pytest.raises(ValueError, match="closed"):
        encoder.encode(tone(100, 48000))
    encoder.close()


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_finished_encoder_is_closed(fmt: str) -> None:
    encoder = create_encoder(fmt, 48000)
    encoder.encode(tone(5000, 48000))
    encoder.finish()
    assert not [v for v in vars(encoder).values() if isinstance(v, CODEC_OBJECTS)]
    assert encoder.finish() == b""
    with pytest.raises(ValueError, match="closed"):
        encoder.encode(tone(100, 48000))


def native_threads() -> int:
    return len(os.listdir("/proc/self/task"))


@pytest.mark.skipif(not os.path.isdir("/proc/self/task"), reason="counts threads in /proc")
def test_encoders_leave_no_thread_behind() -> None:
    """FFmpeg gave every PyAV encoder's filter graph a pool of one thread per core, held until
    the garbage collector found the encoder: the soak saw 13 → 113 threads. Now an encoder
    runs on its caller's thread, finished, abandoned or still open (gc off: no help from it)."""
    gc.collect()
    baseline = native_threads()
    kept = []
    gc.disable()
    try:
        for fmt in FORMATS:
            rate = 48000 if fmt == "opus" else RATE
            for _ in range(10):
                finished, abandoned, running = (create_encoder(fmt, rate) for _ in range(3))
                for encoder in (finished, abandoned, running):
                    encoder.encode(tone(rate // 4, rate))
                finished.finish()
                abandoned.close()
                kept.append((finished, abandoned, running))  # as a response might keep them
        assert native_threads() == baseline
    finally:
        gc.enable()
