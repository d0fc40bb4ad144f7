"""Tests of the synthetic bundle generator (tiny profile; the full one only on request)."""

from __future__ import annotations

import json
import os
import pathlib
import unicodedata

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from supertonic_core import synthetic
from supertonic_core.errors import InvalidInputError, InvalidOptionError
from supertonic_core.synthetic import PROFILES, make_synthetic_bundle

GRAPHS = ("duration_predictor", "text_encoder", "vector_estimator", "vocoder")
VOICES = [f"F{i}" for i in range(1, 6)] + [f"M{i}" for i in range(1, 6)]
EXPECTED_FILES = {
    *(f"onnx/{g}.onnx" for g in GRAPHS),
    "onnx/tts.json",
    "onnx/unicode_indexer.json",
    *(f"voice_styles/{v}.json" for v in VOICES),
}

SIGNATURES = {
    "duration_predictor": (
        [
            ("text_ids", "tensor(int64)", ["B", "T"]),
            ("style_dp", "tensor(float)", ["B", 8, 16]),
            ("text_mask", "tensor(float)", ["B", 1, "T"]),
        ],
        ["duration"],
    ),
    "text_encoder": (
        [
            ("text_ids", "tensor(int64)", ["B", "T"]),
            ("style_ttl", "tensor(float)", ["B", 50, 256]),
            ("text_mask", "tensor(float)", ["B", 1, "T"]),
        ],
        ["text_emb"],
    ),
    "vector_estimator": (
        [
            ("noisy_latent", "tensor(float)", ["B", 144, "L"]),
            ("text_emb", "tensor(float)", ["B", 256, "T"]),
            ("style_ttl", "tensor(float)", ["B", 50, 256]),
            ("text_mask", "tensor(float)", ["B", 1, "T"]),
            ("latent_mask", "tensor(float)", ["B", 1, "L"]),
            ("current_step", "tensor(float)", ["B"]),
            ("total_step", "tensor(float)", ["B"]),
        ],
        ["denoised_latent"],
    ),
    "vocoder": ([("latent", "tensor(float)", ["B", 144, "L"])], ["wav_tts"]),
}


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> pathlib.Path:
    return make_synthetic_bundle(tmp_path_factory.mktemp("synth") / "tiny", seed=0)


@pytest.fixture(scope="module")
def sessions(bundle: pathlib.Path) -> dict[str, ort.InferenceSession]:
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 2
    return {
        g: ort.InferenceSession(str(bundle / "onnx" / f"{g}.onnx"), opts, ["CPUExecutionProvider"])
        for g in GRAPHS
    }


def _files(root: pathlib.Path) -> set[str]:
    return {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}


def _voice(bundle: pathlib.Path, name: str) -> tuple[np.ndarray, np.ndarray]:
    doc = json.loads((bundle / "voice_styles" / f"{name}.json").read_text())
    return (
        np.asarray(doc["style_ttl"]["data"], np.float32),
        np.asarray(doc["style_dp"]["data"], np.float32),
    )


def _vocab(bundle: pathlib.Path) -> int:
    return json.loads((bundle / "onnx" / "tts.json").read_text())["synthetic"]["vocab_size"]


# LAYOUT AND CONFIG


def test_layout_config_and_marker(bundle: pathlib.Path) -> None:
    assert _files(bundle) == EXPECTED_FILES
    config = json.loads((bundle / "onnx" / "tts.json").read_text())
    assert config["ae"]["sample_rate"] == 44100
    assert config["ae"]["base_chunk_size"] == 512
    assert config["ttl"]["chunk_compress_factor"] == 6
    assert config["ttl"]["latent_dim"] == 24
    marker = config["synthetic"]
    assert marker["profile"] == "tiny"
    assert marker["seed"] == 0
    assert marker["note"] == "random weights: not speech"
    for name in GRAPHS:
        model = onnx.load(str(bundle / "onnx" / f"{name}.onnx"))
        onnx.checker.check_model(model)
        props = {p.key: p.value for p in model.metadata_props}
        assert props["synthetic"] == "true"


def test_unicode_indexer(bundle: pathlib.Path) -> None:
    table = json.loads((bundle / "onnx" / "unicode_indexer.json").read_text())
    vocab = _vocab(bundle)
    assert len(table) == 65536
    assert all(isinstance(v, int) for v in table)
    ids = [v for v in table if v != -1]
    assert sorted(ids) == list(range(vocab))
    for ch in ["☃", "€", "\u2603", "\u0007", "\U0001f600"[:1], "♥"]:
        if ord(ch) < 65536:
            assert table[ord(ch)] == -1, ch
    text = unicodedata.normalize("NFKD", "aé한あاनяΩ中、…ＡÄ")
    for ch in text:
        assert 0 <= table[ord(ch)] < vocab, f"{ch!r} U+{ord(ch):04X}"
    for ch in "é한":  # the precomposed forms are supported too
        assert table[ord(ch)] >= 0


def test_voice_styles(bundle: pathlib.Path) -> None:
    seen = []
    for name in VOICES:
        doc = json.loads((bundle / "voice_styles" / f"{name}.json").read_text())
        assert doc["style_ttl"]["dims"] == [1, 50, 256]
        assert doc["style_dp"]["dims"] == [1, 8, 16]
        assert doc["style_ttl"]["type"] == doc["style_dp"]["type"] == "float32"
        assert doc["metadata"] == {"synthetic": True, "name": name}
        ttl, dp = _voice(bundle, name)
        assert ttl.shape == (1, 50, 256) and dp.shape == (1, 8, 16)
        assert 0.4 < ttl.std() < 0.6
        seen.append(ttl)
    for i in range(len(seen)):
        for j in range(i + 1, len(seen)):
            assert not np.allclose(seen[i], seen[j])


# DETERMINISM, CACHE, ATOMICITY


def test_deterministic(bundle: pathlib.Path, tmp_path: pathlib.Path) -> None:
    again = make_synthetic_bundle(tmp_path / "again", seed=0)
    other = make_synthetic_bundle(tmp_path / "other", seed=1)
    for rel in EXPECTED_FILES:
        assert (bundle / rel).read_bytes() == (again / rel).read_bytes(), rel
    for rel in EXPECTED_FILES - {"onnx/tts.json", "onnx/unicode_indexer.json"}:
        assert (bundle / rel).read_bytes() != (other / rel).read_bytes(), rel
    assert (bundle / "onnx/unicode_indexer.json").read_bytes() == (
        other / "onnx/unicode_indexer.json"
    ).read_bytes()


def _files_by_inode(target: pathlib.Path) -> dict[str, int]:
    """Each file's inode: a file written again is a new file (built aside, renamed in)."""
    return {rel: (target / rel).stat().st_ino for rel in EXPECTED_FILES}


def test_cache_hit_and_overwrite(tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "b"
    assert make_synthetic_bundle(target, seed=3) == target.absolute()
    files = _files_by_inode(target)
    builds: list[tuple[object, ...]] = []
    write = synthetic._write_bundle

    def counted(*args: object) -> None:
        builds.append(args)
        write(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(synthetic, "_write_bundle", counted)
    assert make_synthetic_bundle(str(target), seed=3) == target.absolute()
    assert builds == []  # a cache hit builds nothing and touches nothing
    assert _files_by_inode(target) == files

    before = (target / "onnx/vocoder.onnx").read_bytes()
    make_synthetic_bundle(target, seed=3, overwrite=True)
    assert len(builds) == 1
    after = _files_by_inode(target)
    assert all(after[rel] != files[rel] for rel in EXPECTED_FILES)
    assert (target / "onnx/vocoder.onnx").read_bytes() == before

    # a synthetic bundle of another seed is ours to replace; so is an incomplete one
    make_synthetic_bundle(target, seed=4)
    assert json.loads((target / "onnx/tts.json").read_text())["synthetic"]["seed"] == 4
    (target / "voice_styles/M5.json").unlink()
    make_synthetic_bundle(target, seed=4)
    assert _files(target) == EXPECTED_FILES
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b"]  # no temp dirs left


def test_refuses_to_clobber_foreign_folder(tmp_path: pathlib.Path) -> None:
    target = tmp_path / "mine"
    target.mkdir()
    (target / "keep.txt").write_text("precious")
    with pytest.raises(FileExistsError):
        make_synthetic_bundle(target)
    assert (target / "keep.txt").read_text() == "precious"
    make_synthetic_bundle(target, overwrite=True)
    assert _files(target) == EXPECTED_FILES
    # an empty folder is fine
    empty = tmp_path / "empty"
    empty.mkdir()
    make_synthetic_bundle(empty)
    assert _files(empty) == EXPECTED_FILES


def test_failed_build_leaves_nothing(
    tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def boom(root: pathlib.Path, profile: str, seed: int) -> None:
        (root / "onnx").mkdir(parents=True)
        (root / "onnx" / "tts.json").write_text("{}")
        raise RuntimeError("killed")

    monkeypatch.setattr(synthetic, "_write_bundle", boom)
    with pytest.raises(RuntimeError):
        make_synthetic_bundle(tmp_path / "half")
    assert list(tmp_path.iterdir()) == []


def test_bad_options() -> None:
    assert PROFILES == ("tiny", "full")
    with pytest.raises(InvalidOptionError) as info:
        make_synthetic_bundle("/nonexistent/never", profile="huge")
    assert isinstance(info.value, InvalidInputError)
    assert info.value.name == "profile"
    assert "one of 'tiny', 'full'" in str(info.value)
    assert not pathlib.Path("/nonexistent/never").exists()
    with pytest.raises(InvalidOptionError):
        make_synthetic_bundle("/nonexistent/never", seed=-1)


# GRAPHS


def test_graph_signatures(sessions: dict[str, ort.InferenceSession]) -> None:
    for name, (inputs, outputs) in SIGNATURES.items():
        sess = sessions[name]
        got = [(i.name, i.type, i.shape) for i in sess.get_inputs()]
        assert got == inputs, name
        assert [o.name for o in sess.get_outputs()] == outputs, name
        assert all(o.type == "tensor(float)" for o in sess.get_outputs())


def _pad_batch(rows: list[np.ndarray], axis_len: int) -> np.ndarray:
    """Stack [C, t] (or [t]) arrays, zero-padded on the last axis to axis_len."""
    out = np.zeros((len(rows), *rows[0].shape[:-1], axis_len), rows[0].dtype)
    for i, r in enumerate(rows):
        out[i, ..., : r.shape[-1]] = r
    return out


def _mask(lengths: list[int], size: int) -> np.ndarray:
    return (np.arange(size)[None, None, :] < np.asarray(lengths)[:, None, None]).astype(np.float32)


def test_graphs_run_with_expected_shapes(
    bundle: pathlib.Path, sessions: dict[str, ort.InferenceSession]
) -> None:
    rng = np.random.default_rng(0)
    B, T, L = 2, 23, 11
    ids = rng.integers(0, _vocab(bundle), (B, T))
    ttl, dp = _voice(bundle, "F1")
    ttl, dp = np.repeat(ttl, B, 0), np.repeat(dp, B, 0)
    tmask, lmask = np.ones((B, 1, T), np.float32), np.ones((B, 1, L), np.float32)
    (dur,) = sessions["duration_predictor"].run(
        None, {"text_ids": ids, "style_dp": dp, "text_mask": tmask}
    )
    assert dur.shape == (B,) and dur.dtype == np.float32
    assert np.all(dur > 0.1)
    assert np.all(np.abs(dur / (T * 0.065) - 1) < 0.3)
    (emb,) = sessions["text_encoder"].run(
        None, {"text_ids": ids, "style_ttl": ttl, "text_mask": tmask}
    )
    assert emb.shape == (B, 256, T) and np.isfinite(emb).all()
    latent = rng.standard_normal((B, 144, L)).astype(np.float32)
    outs = []
    for step in range(4):
        feeds = {
            "noisy_latent": latent,
            "text_emb": emb,
            "style_ttl": ttl,
            "text_mask": tmask,
            "latent_mask": lmask,
            "current_step": np.full(B, step, np.float32),
            "total_step": np.full(B, 4, np.float32),
        }
        (out,) = sessions["vector_estimator"].run(None, feeds)
        assert out.shape == (B, 144, L) and np.isfinite(out).all()
        # an Euler step of a bounded velocity: moves the latent, but not far
        assert 0 < np.abs(out - latent).max() <= 7 / 4 + 1e-5
        outs.append(out - latent)
    assert not np.allclose(outs[0], outs[3], atol=1e-3)  # the step count matters
    (wav,) = sessions["vocoder"].run(None, {"latent": latent})
    assert wav.shape == (B, L * 3072) and wav.dtype == np.float32
    assert np.abs(wav).max() <= 1.0 and wav.std() > 0.01


def test_durations_depend_on_text_and_style(
    bundle: pathlib.Path, sessions: dict[str, ort.InferenceSession]
) -> None:
    rng = np.random.default_rng(1)
    _, dp1 = _voice(bundle, "F1")
    _, dp2 = _voice(bundle, "M3")
    results = {}
    for T in (1, 10, 100):
        for vname, dp in (("F1", dp1), ("M3", dp2)):
            ids = rng.integers(0, _vocab(bundle), (1, T))
            (d,) = sessions["duration_predictor"].run(
                None, {"text_ids": ids, "style_dp": dp, "text_mask": np.ones((1, 1, T), np.float32)}
            )
            results[T, vname] = float(d[0])
    assert all(v > 0.1 for v in results.values())
    assert results[100, "F1"] > 5 * results[10, "F1"] > 5 * results[1, "F1"] / 2
    assert results[100, "F1"] != results[100, "M3"]


def test_batches_are_exact(bundle: pathlib.Path, sessions: dict[str, ort.InferenceSession]) -> None:
    """A padded batch gives every row its solo result (mask-correctness)."""
    rng = np.random.default_rng(2)
    t_lens, l_lens = [7, 19, 12], [5, 13, 9]
    T, L = max(t_lens), max(l_lens)
    voices = [_voice(bundle, v) for v in ("F1", "M2", "F3")]
    ids = [rng.integers(0, _vocab(bundle), (t,)) for t in t_lens]
    embs = [rng.standard_normal((256, t)).astype(np.float32) for t in t_lens]
    lats = [rng.standard_normal((144, n)).astype(np.float32) for n in l_lens]
    ttl = np.concatenate([v[0] for v in voices])
    dp = np.concatenate([v[1] for v in voices])
    tmask, lmask = _mask(t_lens, T), _mask(l_lens, L)
    # padding filled with zeros, as the engine does
    b_ids = _pad_batch(ids, T)
    b_emb, b_lat = _pad_batch(embs, T), _pad_batch(lats, L)
    step = {"current_step": np.full(3, 2, np.float32), "total_step": np.full(3, 8, np.float32)}

    (b_dur,) = sessions["duration_predictor"].run(
        None, {"text_ids": b_ids, "style_dp": dp, "text_mask": tmask}
    )
    (b_te,) = sessions["text_encoder"].run(
        None, {"text_ids": b_ids, "style_ttl": ttl, "text_mask": tmask}
    )
    ve_feeds = {
        "noisy_latent": b_lat,
        "text_emb": b_emb,
        "style_ttl": ttl,
        "text_mask": tmask,
        "latent_mask": lmask,
        **step,
    }
    (b_ve,) = sessions["vector_estimator"].run(None, ve_feeds)
    # the check has teeth: ignoring the padding (masks of ones) changes the short rows
    (unmasked,) = sessions["text_encoder"].run(
        None, {"text_ids": b_ids, "style_ttl": ttl, "text_mask": np.ones_like(tmask)}
    )
    assert np.abs(unmasked[0, :, : t_lens[0]] - b_te[0, :, : t_lens[0]]).max() > 1e-2
    (unmasked,) = sessions["vector_estimator"].run(
        None, {**ve_feeds, "text_mask": np.ones_like(tmask), "latent_mask": np.ones_like(lmask)}
    )
    assert np.abs(unmasked[0, :, : l_lens[0]] - b_ve[0, :, : l_lens[0]]).max() > 1e-3
    for i, (t, n) in enumerate(zip(t_lens, l_lens, strict=True)):
        one_t, one_l = np.ones((1, 1, t), np.float32), np.ones((1, 1, n), np.float32)
        (dur,) = sessions["duration_predictor"].run(
            None, {"text_ids": ids[i][None], "style_dp": dp[i : i + 1], "text_mask": one_t}
        )
        np.testing.assert_allclose(b_dur[i], dur[0], atol=1e-4)
        (te,) = sessions["text_encoder"].run(
            None, {"text_ids": ids[i][None], "style_ttl": ttl[i : i + 1], "text_mask": one_t}
        )
        np.testing.assert_allclose(b_te[i, :, :t], te[0], atol=1e-4)
        assert np.all(b_te[i, :, t:] == 0)
        (ve,) = sessions["vector_estimator"].run(
            None,
            {
                "noisy_latent": lats[i][None],
                "text_emb": embs[i][None],
                "style_ttl": ttl[i : i + 1],
                "text_mask": one_t,
                "latent_mask": one_l,
                "current_step": step["current_step"][:1],
                "total_step": step["total_step"][:1],
            },
        )
        np.testing.assert_allclose(b_ve[i, :, :n], ve[0], atol=1e-4)
        assert np.all(b_ve[i, :, n:] == 0)

    # vocoder: exact for rows of equal length
    lat = rng.standard_normal((3, 144, 6)).astype(np.float32)
    (b_wav,) = sessions["vocoder"].run(None, {"latent": lat})
    for i in range(3):
        (wav,) = sessions["vocoder"].run(None, {"latent": lat[i : i + 1]})
        np.testing.assert_allclose(b_wav[i], wav[0], atol=1e-4)


@pytest.mark.skipif(os.environ.get("SUPERTONIC_TEST_FULL") != "1", reason="SUPERTONIC_TEST_FULL=1")
@pytest.mark.timeout(600)
def test_full_profile(tmp_path: pathlib.Path) -> None:
    root = make_synthetic_bundle(tmp_path / "full", profile="full")
    config = json.loads((root / "onnx" / "tts.json").read_text())
    params = config["synthetic"]["parameters"]
    assert 90e6 < sum(params.values()) < 110e6
    assert params["vector_estimator"] > params["vocoder"] > params["text_encoder"]
    sess = ort.InferenceSession(
        str(root / "onnx" / "vocoder.onnx"), providers=["CPUExecutionProvider"]
    )
    (wav,) = sess.run(None, {"latent": np.zeros((1, 144, 3), np.float32)})
    assert wav.shape == (1, 3 * 3072) and np.isfinite(wav).all()
