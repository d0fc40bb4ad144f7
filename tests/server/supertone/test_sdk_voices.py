"""Voices and custom voices through the real ``supertone`` SDK."""

from __future__ import annotations

import io
import json
import wave
from pathlib import Path

import pytest
from supertonic_core import PRESETS
from supertonic_server import Settings
from supertonic_server.testing import LiveServer

from .conftest import SdkClient, audio_bytes, read_wav


def _values(results: list[dict]) -> list[dict]:
    for r in results:
        assert r["kind"] == "model", r
    return [r["value"] for r in results]


@pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])
def test_list_voices_pages_with_next_page_token(sdk: SdkClient, is_async: bool):
    first, second = _values(
        sdk.run(
            {"op": "voices.list_voices", "async": is_async, "kwargs": {"page_size": 6}},
            {
                "op": "voices.list_voices",
                "async": is_async,
                "kwargs": {"page_size": 6, "next_page_token": "6"},
            },
        )
    )
    assert first["total"] == second["total"] == len(PRESETS)
    assert first["next_page_token"] == "6" and second["next_page_token"] is None
    ids = [v["voice_id"] for v in first["items"] + second["items"]]
    assert ids == list(PRESETS)
    voice = first["items"][0]
    assert (
        voice["gender"] == "female" and "en" in voice["language"] and len(voice["language"]) == 31
    )
    assert voice["styles"][0] == "neutral" and "sona_speech_1" in voice["models"]


def test_a_page_size_out_of_range_is_an_error(sdk: SdkClient):
    result = sdk.one("voices.list_voices", page_size=101)
    assert result["status_code"] == 400 and "page_size" in result["message"]


@pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])
def test_search_voices_filters(sdk: SdkClient, is_async: bool):
    queries = [
        {"gender": "FEMALE"},
        {"gender": "male", "name": "m1"},
        {"language": "xx,ko", "model": "supertonic_api_3"},
        {"description": "preset alloy"},
        {"style": "neutral;calm"},
        {"style": "calm,neutral", "use_cases": "audiobook", "age": "young-adult"},
        {"use_case": "narration", "page_size": 10},
    ]
    results = _values(
        sdk.run(*({"op": "voices.search_voices", "async": is_async, "kwargs": q} for q in queries))
    )
    ids = [[v["voice_id"] for v in r["items"]] for r in results]
    assert ids[0] == ["F1", "F2", "F3", "F4", "F5"]
    assert ids[1] == ["M1"]
    assert ids[2] == list(PRESETS)
    assert ids[3] == ["F1"]  # alloy is F1
    assert ids[4] == []  # no voice has both styles
    assert ids[5] == list(PRESETS)
    assert results[6]["total"] == len(PRESETS)


def test_search_mixing_or_and_and_in_style_is_refused(sdk: SdkClient):
    result = sdk.one("voices.search_voices", style="a,b;c")
    assert result["status_code"] == 400 and "mixes" in result["message"]


@pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])
def test_get_voice_and_an_unknown_one(sdk: SdkClient, is_async: bool):
    found, missing = sdk.run(
        {"op": "voices.get_voice", "async": is_async, "kwargs": {"voice_id": "M3"}},
        {"op": "voices.get_voice", "async": is_async, "kwargs": {"voice_id": "Z9"}},
    )
    assert found["value"]["voice_id"] == "M3" and found["value"]["gender"] == "male"
    assert missing["status_code"] == 404 and "Z9" in missing["message"]


def _style_file(st_server, tmp_path: Path) -> Path:
    """A Supertonic voice-style JSON, as a local cloning tool would write it."""
    src = st_server.engine.bundle.voices_dir / "F2.json"
    path = tmp_path / "my-voice.json"
    path.write_text(src.read_text())
    return path


@pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])
def test_custom_voice_lifecycle(
    sdk: SdkClient, st_server, voices_dir: Path, tmp_path, is_async: bool
):
    upload = {"file_name": "my-voice.json", "$file": str(_style_file(st_server, tmp_path))}
    (created,) = sdk.run(
        {
            "op": "custom_voices.create_cloned_voice",
            "async": is_async,
            "kwargs": {"files": upload, "name": "My Clone", "description": "warm and calm"},
        }
    )
    voice_id = created["value"]["voice_id"]
    assert (voices_dir / f"{voice_id}.json").exists()

    def op(method: str, **kwargs) -> dict:
        return {"op": f"custom_voices.{method}", "async": is_async, "kwargs": kwargs}

    listed, searched, nothing, got, edited, spoken, deleted, gone = sdk.run(
        op("list_custom_voices", page_size=100),
        op("search_custom_voices", name="clone my", description="calm"),
        op("search_custom_voices", name="someone else"),
        op("get_custom_voice", voice_id=voice_id),
        op("edit_custom_voice", voice_id=voice_id, name="Renamed"),
        {
            "op": "text_to_speech.create_speech",
            "async": is_async,
            "kwargs": {"voice_id": voice_id, "text": "My own voice.", "language": "en"},
        },
        op("delete_custom_voice", voice_id=voice_id),
        op("get_custom_voice", voice_id=voice_id),
    )
    mine = {"voice_id": voice_id, "name": "My Clone", "description": "warm and calm"}
    assert mine in listed["value"]["items"]
    assert searched["value"]["items"] == [mine]
    assert nothing["value"]["items"] == []
    assert got["value"] == mine
    assert edited["value"] == {**mine, "name": "Renamed"}
    assert read_wav(audio_bytes(spoken))[1] == 44100
    assert deleted["kind"] == "model" and deleted["value"] is None  # 204: the SDK returns None
    assert (gone["class"], gone["status_code"]) == ("NotFoundErrorResponse", 404)
    assert not (voices_dir / f"{voice_id}.json").exists()


def test_custom_voice_lists_page(sdk: SdkClient, st_server, tmp_path: Path):
    upload = {"file_name": "v.json", "$file": str(_style_file(st_server, tmp_path))}
    made = sdk.run(
        *(
            {
                "op": "custom_voices.create_cloned_voice",
                "kwargs": {"files": dict(upload), "name": f"Pager {i}"},
            }
            for i in range(12)
        )
    )
    ids = [m["value"]["voice_id"] for m in made]
    first, second = _values(
        sdk.run(
            {
                "op": "custom_voices.search_custom_voices",
                "kwargs": {"name": "pager", "page_size": 10},
            },
            {
                "op": "custom_voices.search_custom_voices",
                "kwargs": {"name": "pager", "next_page_token": "10", "page_size": 10},
            },
        )
    )
    assert first["total"] == 12 and first["next_page_token"] == "10" and len(first["items"]) == 10
    assert second["next_page_token"] is None
    assert sorted(v["voice_id"] for v in first["items"] + second["items"]) == sorted(ids)
    sdk.run(*({"op": "custom_voices.delete_custom_voice", "kwargs": {"voice_id": v}} for v in ids))


def _wav_bytes() -> bytes:
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16000)
        w.writeframes(b"\x00\x00" * 1600)
    return out.getvalue()


def test_bad_uploads_get_the_sdks_typed_errors(sdk: SdkClient, tmp_path: Path):
    audio = tmp_path / "me.wav"
    audio.write_bytes(_wav_bytes())
    garbage = tmp_path / "voice.json"
    garbage.write_text("{not json")
    wrong = tmp_path / "wrong.json"
    wrong.write_text(json.dumps({"style_ttl": [1, 2, 3]}))

    def clone(path: Path, content_type: str | None = None, name: str = "X") -> dict:
        files = {"file_name": path.name, "$file": str(path)}
        if content_type:
            files["content_type"] = content_type
        return {
            "op": "custom_voices.create_cloned_voice",
            "kwargs": {"files": files, "name": name},
        }

    from_audio, not_json, bad_shape, long_name = sdk.run(
        clone(audio, "audio/wav"), clone(garbage), clone(wrong), clone(garbage, name="n" * 101)
    )
    assert from_audio["class"] == "UnsupportedMediaTypeErrorResponse"
    assert from_audio["status_code"] == 415
    assert "voice-cloning tool" in from_audio["message"]
    assert "style encoder" in from_audio["message"]
    assert (not_json["class"], not_json["status_code"]) == ("BadRequestErrorResponse", 400)
    assert "not a Supertonic voice-style JSON" in not_json["message"]
    assert (bad_shape["class"], bad_shape["status_code"]) == ("BadRequestErrorResponse", 400)
    assert "style_ttl" in bad_shape["message"]
    assert long_name["status_code"] == 400 and "100" in long_name["message"]


def clone_in_data_dir(
    sdk_python: str, settings: Settings, data_dir: Path, tmp_path: Path, env: pytest.MonkeyPatch
) -> tuple[dict, dict]:
    """Start a server with ``SUPERTONIC_DATA_DIR=data_dir`` and no --voices-dir, then list
    the custom voices and create one, through the real SDK."""
    env.setenv("SUPERTONIC_DATA_DIR", str(data_dir))
    server = LiveServer(settings.model_copy(update={"warmup": False})).start()
    try:
        style = tmp_path / "v.json"
        style.write_text((server.engine.bundle.voices_dir / "F1.json").read_text())
        return SdkClient(sdk_python, server).run(
            {"op": "custom_voices.list_custom_voices"},
            {
                "op": "custom_voices.create_cloned_voice",
                "kwargs": {"files": {"file_name": "v.json", "$file": str(style)}, "name": "X"},
            },
        )
    finally:
        server.stop()


def test_custom_voices_work_out_of_the_box_in_the_per_user_data_folder(
    sdk_python: str, base_settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    """A server started as the README says (no --voices-dir) keeps custom voices in the
    per-user data folder: the SDK's cloned-voice calls work (they were 403 before)."""
    data = tmp_path / "data"
    listed, created = clone_in_data_dir(sdk_python, base_settings, data, tmp_path, monkeypatch)
    assert listed["value"]["items"] == []
    assert (data / "voices" / f"{created['value']['voice_id']}.json").is_file()


def test_a_data_folder_that_cannot_be_made_leaves_custom_voices_off_and_says_why(
    sdk_python: str, base_settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    blocked = tmp_path / "a-file"
    blocked.write_text("")
    listed, created = clone_in_data_dir(sdk_python, base_settings, blocked, tmp_path, monkeypatch)
    assert listed["value"]["items"] == []
    assert (created["class"], created["status_code"]) == ("ForbiddenErrorResponse", 403)
    assert "--voices-dir" in created["message"] and str(blocked) in created["message"]
