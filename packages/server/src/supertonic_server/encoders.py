"""Streaming audio encoders: one class per response format, mono samples in, bytes out.

Every encoder takes float32 (-1..1) or int16 samples already at its own sample rate (the
caller resamples with the core's stateful ``StreamResampler``), returns whatever bytes are
ready after each :meth:`~Encoder.encode`, and closes the container in :meth:`~Encoder.finish`.
The concatenated output is a valid file at every chunk boundary that a player can start on
while it is still growing, and a complete file once ``finish()`` has been sent:

* ``pcm``: raw little-endian int16, no header (OpenAI's ``pcm``).
* ``wav``: a 44-byte header whose RIFF and data sizes are ``0xFFFFFFFF`` (the streaming
  convention OpenAI and Kokoro use: "until the end of the stream"), then int16 samples.
* ``mp3``: LAME frames as LAME releases them (``lameenc``), 128 kbit/s at 32 kHz and up.
* ``opus``: Ogg/Opus pages (PyAV/libopus), one page per ~60 ms so audio leaves promptly;
  always 48 kHz, as OpenAI sends it: Ogg/Opus decoders output 48 kHz whatever the encoder
  ran at (RFC 7845), so any other rate would only make ``X-Sample-Rate`` lie.
* ``aac``: AAC-LC in ADTS frames (PyAV), each frame self-delimiting.
* ``flac``: a FLAC stream (PyAV); the header's total-sample count stays 0 ("unknown"), as
  FLAC allows for streams, because a stream cannot be rewound to patch it.

Threads: PyAV converts each frame to the codec's format and frame size through an FFmpeg
filter graph, which starts a pool of one thread per core per encoder, freed only when the
encoder is: a server with a few dozen streams on a 16-core box ran hundreds of idle threads,
and finished encoders still referenced kept theirs until the garbage collector came (a
10-minute soak went from 13 to 113 threads). So FFmpeg's automatic thread count is set to 1
once (:func:`_single_threaded_ffmpeg`; a mono audio stream gains nothing from more), and an
encoder drops its PyAV objects the moment it finishes or is closed.
"""

from __future__ import annotations

import ctypes
import logging
import struct
from pathlib import Path
from typing import ClassVar

import av
import lameenc
import numpy as np
from supertonic_core.audio import to_int16
from supertonic_core.audio_path import Encoder as CoreEncoder

logger = logging.getLogger("supertonic_server")

FORMATS = ("mp3", "opus", "aac", "flac", "wav", "pcm")

#: The only rate Ogg/Opus is decoded at; a request asking opus at another rate is refused.
OPUS_RATE = 48000

MEDIA_TYPES = {
    "mp3": "audio/mpeg",
    "opus": "audio/ogg; codecs=opus",
    "aac": "audio/aac",
    "flac": "audio/flac",
    "wav": "audio/wav",
    "pcm": "audio/pcm",
}


def _single_threaded_ffmpeg() -> bool:
    """Make FFmpeg's "automatic" thread count 1 (``av_cpu_force_count``) for this process.

    PyAV exposes no way to size the filter graph it builds inside each audio encoder, so the
    call goes to the libavutil PyAV loaded, found among the process's mapped files (Linux).
    Elsewhere nothing changes but the thread count (encoders still free theirs on close).
    """
    maps = Path("/proc/self/maps")
    if not maps.is_file():
        return False
    paths = {line.split()[-1] for line in maps.read_text().splitlines() if "libavutil" in line}
    for path in paths:
        try:
            ctypes.CDLL(path).av_cpu_force_count(1)
            return True
        except (OSError, AttributeError):
            continue
    logger.debug("could not reach av_cpu_force_count: encoders use FFmpeg's thread pools")
    return False


_single_threaded_ffmpeg()


def _int16(samples: np.ndarray) -> np.ndarray:
    if samples.dtype == np.int16:
        return samples
    return to_int16(samples.astype(np.float32, copy=False))


def _float32(samples: np.ndarray) -> np.ndarray:
    if samples.dtype == np.int16:
        return samples.astype(np.float32) / 32768.0
    return np.clip(samples.astype(np.float32, copy=False), -1.0, 1.0)


class Encoder(CoreEncoder):
    """A response format's encoder (see the core's :class:`~supertonic_core.audio_path.Encoder`):
    float32 (-1..1) or int16 samples in, at its own rate; ``codec`` and ``media_type`` for
    the headers."""

    codec: ClassVar[str]

    @property
    def encoding(self) -> str:
        """Description for the ``X-Audio-Encoding`` header, e.g. ``pcm_s16le_24000_1ch``."""
        return f"{self.codec}_{self.sample_rate}_1ch"

    @property
    def media_type(self) -> str:
        return MEDIA_TYPES[self.format]


class PcmEncoder(Encoder):
    format = "pcm"
    codec = "pcm_s16le"

    def _encode(self, samples: np.ndarray) -> bytes:
        return _int16(samples).astype("<i2", copy=False).tobytes()


class WavEncoder(PcmEncoder):
    """PCM behind a RIFF header whose sizes are ``0xFFFFFFFF`` (unknown), then the samples."""

    format = "wav"
    codec = "wav_s16le"
    UNKNOWN = 0xFFFFFFFF

    def __init__(self, sample_rate: int) -> None:
        super().__init__(sample_rate)
        self._header_sent = False

    def header(self) -> bytes:
        rate = self.sample_rate
        return (
            b"RIFF"
            + struct.pack("<I", self.UNKNOWN)
            + b"WAVEfmt "
            + struct.pack("<IHHIIHH", 16, 1, 1, rate, rate * 2, 2, 16)
            + b"data"
            + struct.pack("<I", self.UNKNOWN)
        )

    def _encode(self, samples: np.ndarray) -> bytes:
        head = b"" if self._header_sent else self.header()
        self._header_sent = True
        return head + super()._encode(samples)

    def _finish(self) -> bytes:
        return b"" if self._header_sent else self._encode(np.zeros(0, dtype=np.int16))


class Mp3Encoder(Encoder):
    format = "mp3"
    codec = "mp3"
    costly = True

    def __init__(self, sample_rate: int) -> None:
        super().__init__(sample_rate)
        # MPEG-1 (32-48 kHz) allows 128 kbit/s; MPEG-2 (16-24 kHz) tops out at 160, MPEG-2.5
        # (8-12 kHz) at 64: pick a rate each layer carries without LAME resampling behind us.
        kbps = 128 if sample_rate >= 32000 else 64 if sample_rate >= 16000 else 32
        self.kbps = kbps
        self._lame = lameenc.Encoder()
        self._lame.set_channels(1)
        self._lame.set_in_sample_rate(sample_rate)
        self._lame.set_out_sample_rate(sample_rate)
        self._lame.set_bit_rate(kbps)
        self._lame.set_quality(2)

    @property
    def encoding(self) -> str:
        return f"mp3_{self.sample_rate}_1ch_{self.kbps}kbps"

    def _encode(self, samples: np.ndarray) -> bytes:
        if not len(samples):
            return b""
        return bytes(self._lame.encode(_int16(samples).tobytes()))

    def _finish(self) -> bytes:
        tail = bytes(self._lame.flush())
        self._release()
        return tail

    def _release(self) -> None:
        del self._lame


class _Sink:
    """A write-only, unseekable file for PyAV: what the muxer writes is collected for sending."""

    def __init__(self) -> None:
        self._buf = bytearray()

    def write(self, data: bytes) -> int:
        self._buf += data
        return len(data)

    def take(self) -> bytes:
        data = bytes(self._buf)
        self._buf.clear()
        return data


class _AvEncoder(Encoder):
    """A PyAV (FFmpeg) codec in a container written to memory, drained after every call."""

    container: ClassVar[str]
    av_codec: ClassVar[str]
    costly = True
    bit_rate: ClassVar[int | None] = None
    container_options: ClassVar[dict[str, str]] = {}

    def __init__(self, sample_rate: int) -> None:
        super().__init__(sample_rate)
        self._sink = _Sink()
        options = {"flush_packets": "1", **self.container_options}
        self._out = av.open(self._sink, mode="w", format=self.container, container_options=options)
        self._stream = self._out.add_stream(self.av_codec, rate=sample_rate, layout="mono")
        if self.bit_rate:
            self._stream.codec_context.bit_rate = self.bit_rate
        self._pts = 0

    def _encode(self, samples: np.ndarray) -> bytes:
        if not len(samples):
            return self._sink.take()
        frame = av.AudioFrame.from_ndarray(
            _float32(samples).reshape(1, -1), format="flt", layout="mono"
        )
        frame.sample_rate = self.sample_rate
        frame.pts = self._pts
        self._pts += len(samples)
        for packet in self._stream.encode(frame):
            self._out.mux(packet)
        return self._sink.take()

    def _finish(self) -> bytes:
        for packet in self._stream.encode(None):
            self._out.mux(packet)
        self._release()  # closing the container writes its end into the sink
        return self._sink.take()

    def _release(self) -> None:
        """Release the codec (and its threads) now, whoever still holds this encoder."""
        self._out.close()
        del self._stream, self._out


class OpusEncoder(_AvEncoder):
    format = "opus"
    codec = "opus"
    container = "ogg"
    av_codec = "libopus"
    bit_rate = 48000
    # One Ogg page per ~60 ms instead of the muxer's default second, so audio leaves promptly.
    container_options: ClassVar[dict[str, str]] = {"page_duration": "60000"}


class AacEncoder(_AvEncoder):
    format = "aac"
    codec = "aac"
    container = "adts"
    av_codec = "aac"
    bit_rate = 96000


class FlacEncoder(_AvEncoder):
    format = "flac"
    codec = "flac"
    container = "flac"
    av_codec = "flac"


ENCODERS: dict[str, type[Encoder]] = {
    "mp3": Mp3Encoder,
    "opus": OpusEncoder,
    "aac": AacEncoder,
    "flac": FlacEncoder,
    "wav": WavEncoder,
    "pcm": PcmEncoder,
}


def warm_up(native_rate: int, rates: tuple[int, ...]) -> None:
    """Run every encoder and the resampler once, so the first request pays no set-up."""
    from supertonic_core import StreamResampler

    silence = np.zeros(native_rate // 10, dtype=np.float32)
    for rate in {*rates, native_rate, OPUS_RATE}:
        audio = StreamResampler(native_rate, rate).process(silence, last=True)
        for fmt in FORMATS:
            if fmt != "opus" or rate == OPUS_RATE:
                encoder = create_encoder(fmt, rate)
                encoder.encode(audio)
                encoder.finish()


def create_encoder(fmt: str, sample_rate: int) -> Encoder:
    """A fresh encoder for one response; ``fmt`` is one of :data:`FORMATS`."""
    if fmt == "opus" and sample_rate != OPUS_RATE:
        raise ValueError(f"opus is always decoded at {OPUS_RATE} Hz, not {sample_rate}")
    return ENCODERS[fmt](sample_rate)
