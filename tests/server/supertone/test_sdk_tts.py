"""Text-to-speech through the real ``supertone`` SDK: create, stream, predict, sync and async.

The audio is the tiny synthetic bundle's noise, so the checks are on what the SDK hands
back: the container, the rate, the length (against ``X-Audio-Length`` and the duration
predictor), the phoneme timings, and the SDK's own splitting of text over 300 characters.
"""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime

import pytest

from ..conftest import API_KEY, decode
from .conftest import SdkClient, audio_bytes, read_wav

RATE = 44100
SHORT = "Hello there, this is a short test."
# 9 sentences of 50 characters: the SDK sends 300 + 149 (its split keeps the trailing space)
LONG = "This sentence is exactly fifty characters, sir. " * 9 + "End."
_EPOCH, _FAR = datetime(2000, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC)


def _seconds(result: dict) -> float:
    samples, rate = read_wav(audio_bytes(result))
    assert rate == RATE
    return len(samples) / rate


@pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])
def test_create_speech_wav_is_a_complete_file_with_its_length(sdk: SdkClient, is_async: bool):
    result = sdk.one(
        "text_to_speech.create_speech", is_async=is_async, voice_id="F1", text=SHORT, language="en"
    )
    data = audio_bytes(result)
    samples, rate = read_wav(data)
    assert rate == RATE and len(samples) > RATE // 10
    # exact sizes in a complete file (a stream carries 0xFFFFFFFF instead)
    assert int.from_bytes(data[4:8], "little") == len(data) - 8
    assert int.from_bytes(data[40:44], "little") == len(data) - 44
    (length,) = result["headers"]["x-audio-length"]
    assert float(length) == pytest.approx(len(samples) / rate, abs=0.001)
    assert result["headers"]["content-type"] == ["audio/wav"]


@pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])
def test_create_speech_mp3(sdk: SdkClient, is_async: bool):
    result = sdk.one(
        "text_to_speech.create_speech",
        is_async=is_async,
        voice_id="M2",
        text=SHORT,
        language="en",
        output_format="mp3",
        style="happy",
        model="sona_speech_2",
        voice_settings={"speed": 1.2, "pitch_shift": 2},
    )
    data = audio_bytes(result)
    assert data[:2] in (b"\xff\xfb", b"\xff\xfa")  # what the SDK detects as MP3
    samples, rate = decode("mp3", data)
    assert rate == RATE
    assert len(samples) / rate == pytest.approx(
        float(result["headers"]["x-audio-length"][0]), abs=0.1
    )


def test_the_audio_is_as_long_as_predicted_and_speed_and_duration_change_it(sdk: SdkClient):
    text = "Hello world."
    base = {"voice_id": "F3", "text": text, "language": "en"}
    calls = [
        {"op": "text_to_speech.predict_duration", "kwargs": base},
        {"op": "text_to_speech.create_speech", "kwargs": base},
        {"op": "text_to_speech.create_speech", "kwargs": {**base, "voice_settings": {"speed": 2}}},
        {"op": "text_to_speech.predict_duration", "kwargs": {**base, "voice_settings": {"duration": 1.5}}},
        {"op": "text_to_speech.create_speech", "kwargs": {**base, "voice_settings": {"duration": 1.5}}},
    ]  # fmt: skip
    predicted, natural, fast, target, timed = sdk.run(*calls)
    assert predicted["value"]["duration"] == pytest.approx(_seconds(natural), abs=0.002)
    assert _seconds(fast) == pytest.approx(_seconds(natural) / 2, rel=0.1)
    assert target["value"]["duration"] == pytest.approx(1.5, abs=0.1)
    assert _seconds(timed) == pytest.approx(1.5, abs=0.1)


@pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])
def test_create_speech_with_phonemes_gives_estimated_character_timings(
    sdk: SdkClient, is_async: bool
):
    result = sdk.one(
        "text_to_speech.create_speech",
        is_async=is_async,
        voice_id="F2",
        text="Hi there. Bye now.",
        language="en",
        include_phonemes=True,
    )
    assert result["type"] == "CreateSpeechResponseBody"
    body = result["value"]
    samples, rate = read_wav(base64.b64decode(body["audio_base64"]))
    ph = body["phonemes"]
    assert "".join(ph["symbols"]) == "HithereByenow"  # the letters, punctuation takes no time
    assert len(ph["symbols"]) == len(ph["start_times_seconds"]) == len(ph["durations_seconds"])
    assert "" in ph["symbols"]  # the pause after the first sentence
    ends = [s + d for s, d in zip(ph["start_times_seconds"], ph["durations_seconds"], strict=True)]
    assert ph["start_times_seconds"][0] == 0
    assert ph["start_times_seconds"][1:] == pytest.approx(ends[:-1], abs=1e-3)  # no gaps
    assert ends[-1] == pytest.approx(len(samples) / rate, abs=0.01)


@pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])
def test_the_sdk_splits_long_text_and_merges_one_wav(sdk: SdkClient, st_server, is_async: bool):
    counters = st_server.app.state.supertone.usage
    before = sum(t.characters for _, _, t in counters.cells(_EPOCH, _FAR))
    result = sdk.one(
        "text_to_speech.create_speech", is_async=is_async, voice_id="F1", text=LONG, language="en"
    )
    data = audio_bytes(result)
    assert int.from_bytes(data[4:8], "little") == len(data) - 8  # the SDK's rebuilt header
    samples, rate = read_wav(data)
    assert rate == RATE and len(samples) / rate > 2.0
    after = sum(t.characters for _, _, t in counters.cells(_EPOCH, _FAR))
    assert after - before == len(LONG)  # both pieces reached us, every character once


def test_long_text_with_phonemes_merges_the_timings(sdk: SdkClient):
    result = sdk.one(
        "text_to_speech.create_speech",
        voice_id="F1",
        text=LONG,
        language="en",
        include_phonemes=True,
    )
    body = result["value"]
    samples, rate = read_wav(base64.b64decode(body["audio_base64"]))
    ph = body["phonemes"]
    assert "".join(ph["symbols"]).count("sir") == 9
    last_end = ph["start_times_seconds"][-1] + ph["durations_seconds"][-1]
    assert last_end == pytest.approx(len(samples) / rate, abs=0.05)


@pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])
def test_stream_speech_header_first_then_raw_audio(sdk: SdkClient, is_async: bool):
    text = "First sentence of the stream. A second one follows. And a third."
    result = sdk.one(
        "text_to_speech.stream_speech", is_async=is_async, voice_id="M1", text=text, language="en"
    )
    data = audio_bytes(result)
    assert data[4:8] == b"\xff\xff\xff\xff"  # streamed: sizes unknown until the end
    samples, rate = read_wav(data)
    assert rate == RATE and len(samples) > RATE // 2
    assert result["headers"]["content-type"] == ["audio/wav"]


@pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])
def test_stream_speech_of_long_text_strips_the_later_headers(sdk: SdkClient, is_async: bool):
    short = sdk.one("text_to_speech.create_speech", voice_id="F1", text=LONG[:300], language="en")
    result = sdk.one(
        "text_to_speech.stream_speech", is_async=is_async, voice_id="F1", text=LONG, language="en"
    )
    data = audio_bytes(result)
    assert data.count(b"RIFF") == 1 and data.count(b"WAVEfmt ") == 1
    samples, rate = read_wav(data)
    assert len(samples) / rate > _seconds(short)  # both pieces arrived, as one stream


@pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])
def test_stream_speech_with_phonemes_is_ndjson(sdk: SdkClient, is_async: bool):
    text = "Streaming test. With phonemes, please."
    result = sdk.one(
        "text_to_speech.stream_speech",
        is_async=is_async,
        voice_id="F4",
        text=text,
        language="en",
        include_phonemes=True,
    )
    assert result["kind"] == "text"
    lines = [json.loads(line) for line in result["text"].splitlines() if line.strip()]
    audio = b"".join(base64.b64decode(line["audio_base64"]) for line in lines)
    samples, rate = read_wav(audio)
    assert audio.count(b"RIFF") == 1  # the header only in the first line
    symbols = [s for line in lines for s in line["phonemes"]["symbols"]]
    starts = [t for line in lines for t in line["phonemes"]["start_times_seconds"]]
    assert "".join(symbols) == "Streamingtest" + "Withphonemesplease"
    assert starts == sorted(starts)  # absolute within the response, across lines
    durations = [d for line in lines for d in line["phonemes"]["durations_seconds"]]
    assert starts[-1] + durations[-1] == pytest.approx(len(samples) / rate, abs=0.01)


def test_stream_speech_with_phonemes_of_long_text_merges_one_object(sdk: SdkClient):
    result = sdk.one(
        "text_to_speech.stream_speech",
        voice_id="F1",
        text=LONG,
        language="en",
        include_phonemes=True,
    )
    merged = json.loads(result["text"])  # the SDK's own merge: one JSON object
    samples, rate = read_wav(base64.b64decode(merged["audio_base64"]))
    assert len(samples) / rate > 2.0
    assert "".join(merged["phonemes"]["symbols"]).count("sir") == 9


@pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])
def test_errors_reach_the_sdk_as_its_typed_errors(sdk: SdkClient, is_async: bool):
    bad_voice, too_long, bad_setting = sdk.run(
        {
            "op": "text_to_speech.create_speech",
            "async": is_async,
            "kwargs": {"voice_id": "nobody", "text": "Hi.", "language": "en"},
        },
        {
            "op": "text_to_speech.predict_duration",  # the SDK does not split here
            "async": is_async,
            "kwargs": {"voice_id": "F1", "text": "x" * 301, "language": "en"},
        },
        {
            "op": "text_to_speech.stream_speech",
            "async": is_async,
            "kwargs": {
                "voice_id": "F1",
                "text": "Hi.",
                "language": "en",
                "voice_settings": {"speed": 5},
            },
        },
    )
    assert (bad_voice["class"], bad_voice["status_code"]) == ("NotFoundErrorResponse", 404)
    assert "nobody" in bad_voice["message"]
    assert (too_long["class"], too_long["status_code"]) == ("BadRequestErrorResponse", 400)
    assert "301 characters" in too_long["message"] and "300" in too_long["message"]
    assert (bad_setting["class"], bad_setting["status_code"]) == ("BadRequestErrorResponse", 400)
    assert "speed" in bad_setting["message"]


def test_a_wrong_key_is_refused_when_keys_are_set(sdk_python: str, keyed):
    good = SdkClient(sdk_python, keyed, key=API_KEY)
    wrong, right = (
        good.with_key("wrong").one(
            "text_to_speech.create_speech", voice_id="F1", text="Hi.", language="en"
        ),
        good.one("text_to_speech.predict_duration", voice_id="F1", text="Hi.", language="en"),
    )
    assert (wrong["class"], wrong["status_code"]) == ("UnauthorizedErrorResponse", 401)
    assert wrong["message"] == "Invalid API key"
    assert right["value"]["duration"] > 0
