"""Voice presets, OpenAI names, blends and style files."""

from __future__ import annotations

import json

import numpy as np
import pytest
from supertonic_core import OPENAI_VOICES, UnknownVoiceError, VoiceStyleError
from supertonic_core.voices import MAX_BLEND_TERMS, MAX_VOICE_CHARS, VoiceLibrary, load_style_file


@pytest.fixture(scope="module")
def library(tiny_bundle) -> VoiceLibrary:
    return VoiceLibrary(tiny_bundle.voices_dir)


def test_openai_names_map_to_presets(library: VoiceLibrary) -> None:
    expected = {
        "alloy": "F1", "coral": "F2", "sage": "F5", "verse": "F1", "marin": "F3", "nova": "F4",
        "shimmer": "F2", "onyx": "M1", "ash": "M1", "ballad": "M2", "cedar": "M3", "echo": "M4",
        "fable": "M5",
    }  # fmt: skip
    assert expected == OPENAI_VOICES
    for alias, preset in expected.items():
        assert library.canonical(alias) == preset
        assert library.canonical(alias.upper()) == preset
        np.testing.assert_array_equal(library.resolve(alias).ttl, library.resolve(preset).ttl)
    assert library.canonical("f3") == "F3"


def test_blend_is_weighted_mean(library: VoiceLibrary) -> None:
    f1, m2 = library.resolve("F1"), library.resolve("M2")
    mix = library.resolve("F1*0.7+M2*0.3")
    np.testing.assert_allclose(mix.ttl, 0.7 * f1.ttl + 0.3 * m2.ttl, atol=1e-6)
    np.testing.assert_allclose(mix.dp, 0.7 * f1.dp + 0.3 * m2.dp, atol=1e-6)
    even = library.resolve("alloy + onyx")  # weights default to 1 and are normalised
    np.testing.assert_allclose(even.ttl, 0.5 * f1.ttl + 0.5 * library.resolve("M1").ttl, atol=1e-6)
    assert library.describe("F1*7+M2*3") == "F1*0.7+M2*0.3"


@pytest.mark.parametrize("spec", ["", "F9", "F1*0.5+", "F1*abc", "F1*0+M1*0", "F1**2"])
def test_bad_voice_specs(library: VoiceLibrary, spec: str) -> None:
    with pytest.raises(UnknownVoiceError) as info:
        library.resolve(spec)
    assert "valid voices: F1" in str(info.value)


@pytest.mark.parametrize(
    ("spec", "needle"),
    [
        ("+".join(["F1"] * (MAX_BLEND_TERMS + 1)), f"at most {MAX_BLEND_TERMS} terms"),
        ("+".join(["F1"] * 50_000), f"at most {MAX_VOICE_CHARS} characters"),
        ("x" * 1_000_000, f"at most {MAX_VOICE_CHARS} characters"),
        ("F1*" + "9" * 400 + "+M1", "positive finite number"),
        ("F1*0+M1", "positive finite number"),
        ("F1*0.0000+M1*1", "positive finite number"),
    ],
)
def test_blends_are_bounded_and_weights_checked(
    library: VoiceLibrary, spec: str, needle: str
) -> None:
    for call in (library.resolve, library.describe):
        with pytest.raises(UnknownVoiceError) as info:
            call(spec)
        message = str(info.value)
        assert needle in message
        assert len(message) < 600  # the spec is quoted shortened, never whole


def test_a_blend_of_the_most_terms_is_served(library: VoiceLibrary) -> None:
    spec = "+".join(["F1*2", "M2"] * (MAX_BLEND_TERMS // 2))
    style = library.resolve(spec)
    assert np.all(np.isfinite(style.ttl)) and np.all(np.isfinite(style.dp))
    assert library.describe(spec).startswith("F1*0.0833+M2*0.0417")


def test_tiny_and_huge_weights_blend_without_overflow(library: VoiceLibrary) -> None:
    f1 = library.resolve("F1")
    huge = library.resolve("F1*" + "9" * 300 + "+M1*1")
    np.testing.assert_allclose(huge.ttl, f1.ttl, atol=1e-6)
    assert library.describe("F1*" + "9" * 300 + "+M1*1") == "F1*1+M1*1e-300"


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("{broken", "not valid JSON"),
        (json.dumps({"style_dp": {"data": [[0.0] * 16] * 8}}), "missing 'style_ttl'"),
        (
            json.dumps(
                {"style_ttl": {"data": [[0.0] * 256] * 49}, "style_dp": {"data": [[0.0] * 16] * 8}}
            ),
            "expected 1x50x256",
        ),
        (
            json.dumps(
                {"style_ttl": {"data": [["x"] * 256] * 50}, "style_dp": {"data": [[0.0] * 16] * 8}}
            ),
            "not a numeric array",
        ),
        (json.dumps([1, 2, 3]), "missing 'style_ttl'"),
    ],
)
def test_bad_style_files(tmp_path, content: str, problem: str) -> None:
    path = tmp_path / "bad.json"
    path.write_text(content)
    with pytest.raises(VoiceStyleError) as info:
        load_style_file(path)
    assert problem in str(info.value) and "bad.json" in str(info.value)


def test_nan_style_rejected(tmp_path) -> None:
    ttl = [[0.0] * 256] * 50
    ttl[3] = [float("nan")] * 256
    path = tmp_path / "nan.json"
    path.write_text(
        json.dumps({"style_ttl": {"data": ttl}, "style_dp": {"data": [[0.0] * 16] * 8}})
    )
    with pytest.raises(VoiceStyleError, match="NaN"):
        load_style_file(path)


def test_custom_voice_cannot_shadow_a_preset(tmp_path, tiny_bundle) -> None:
    (tmp_path / "alloy.json").write_text((tiny_bundle.voices_dir / "F1.json").read_text())
    with pytest.raises(VoiceStyleError, match="taken"):
        VoiceLibrary(tiny_bundle.voices_dir, tmp_path)


def test_missing_custom_folder(tiny_bundle, tmp_path) -> None:
    with pytest.raises(VoiceStyleError, match="does not exist"):
        VoiceLibrary(tiny_bundle.voices_dir, tmp_path / "nope")


def test_custom_voices_can_be_added_and_removed_while_serving(tiny_bundle, tmp_path) -> None:
    library = VoiceLibrary(tiny_bundle.voices_dir, tmp_path)
    path = tmp_path / "mine.json"
    path.write_text((tiny_bundle.voices_dir / "F3.json").read_text())
    style = library.add("mine", path)
    assert library.custom == ["mine"] and library.resolve("mine") is style
    library.remove("mine")
    assert library.custom == []
    with pytest.raises(UnknownVoiceError):
        library.resolve("mine")
    with pytest.raises(VoiceStyleError, match="taken by a preset"):
        library.add("alloy", path)
    with pytest.raises(UnknownVoiceError, match="not a custom voice"):
        library.remove("F1")
