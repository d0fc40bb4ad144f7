"""Settings from flags over SUPERTONIC_* variables over defaults; bad values are named."""

from __future__ import annotations

import pytest
from supertonic_server.settings import Settings, load_settings


def test_defaults() -> None:
    s = load_settings([], {})
    assert s == Settings()
    assert (s.host, s.port, s.pcm_sample_rate, s.max_input_chars) == (
        "127.0.0.1",
        8000,
        24000,
        4096,
    )
    assert s.warmup and s.ui_enabled and s.ws_enabled
    assert s.api_keys == () and not s.exposed
    assert s.first_chunk_steps == 4 and s.phrase_cache == 0  # fast start on, cache off


def test_fast_start_and_phrase_cache_from_flags_and_environment() -> None:
    env = {"SUPERTONIC_FIRST_CHUNK_STEPS": "4", "SUPERTONIC_PHRASE_CACHE": "256"}
    s = load_settings([], env)
    assert (s.first_chunk_steps, s.phrase_cache) == (4, 256)
    s = load_settings(["--first-chunk-steps", "2", "--phrase-cache", "0"], env)
    assert (s.first_chunk_steps, s.phrase_cache) == (2, 0)


def test_environment_then_flags_win() -> None:
    env = {
        "SUPERTONIC_PORT": "9001",
        "SUPERTONIC_MAX_QUEUE": "3",
        "SUPERTONIC_WARMUP": "off",
        "SUPERTONIC_WS_ENABLED": "0",
        "SUPERTONIC_API_KEY": "a, b",
        "SUPERTONIC_CORS_ORIGINS": "http://x,http://y",
        "SUPERTONIC_SYNTHETIC": "tiny",
        "SUPERTONIC_SPEED": "1.2",
    }
    argv = [
        "--port",
        "9002",
        "--api-key",
        "sk-c",
        "--api-key",
        "sk-d,sk-e",
        "--no-ui",
    ]
    s = load_settings(argv, env)
    assert s.port == 9002 and s.max_queue == 3 and s.speed == 1.2
    assert not s.warmup and not s.ws_enabled and not s.ui_enabled
    assert s.api_keys == ("sk-c", "sk-d", "sk-e")  # the flag replaces the variable
    assert s.cors_origins == ("http://x", "http://y")
    assert s.synthetic == "tiny"
    assert "sk-" not in str(s.public())


@pytest.mark.parametrize(
    ("argv", "env", "needle"),
    [
        ([], {"SUPERTONIC_WARMUP": "maybe"}, "SUPERTONIC_WARMUP must be one of"),
        ([], {"SUPERTONIC_PORT": "http"}, "SUPERTONIC_PORT must be an integer"),
        (["--total-steps", "40"], {}, "--total-steps / SUPERTONIC_TOTAL_STEPS must be between 1"),
        (
            ["--first-chunk-steps", "0"],
            {},
            "--first-chunk-steps / SUPERTONIC_FIRST_CHUNK_STEPS must be between 1 and 32, got 0",
        ),
        ([], {"SUPERTONIC_FIRST_CHUNK_STEPS": "33"}, "FIRST_CHUNK_STEPS must be between 1 and 32"),
        ([], {"SUPERTONIC_FIRST_CHUNK_STEPS": "fast"}, "FIRST_CHUNK_STEPS must be an integer"),
        (["--phrase-cache", "-1"], {}, "--phrase-cache / SUPERTONIC_PHRASE_CACHE must be 0"),
        ([], {"SUPERTONIC_PHRASE_CACHE": "lots"}, "SUPERTONIC_PHRASE_CACHE must be an integer"),
        ([], {"SUPERTONIC_PCM_SAMPLE_RATE": "12345"}, "one of 8000"),
        (["--synthetic", "tiny", "--model-dir", "/m"], {}, "exclude each other"),
        (["--max-queue", "-1"], {}, "0 or more"),
        ([], {"SUPERTONIC_DEVICE": "tpu"}, "one of auto, cpu"),
    ],
)
def test_bad_values_are_named(argv: list[str], env: dict[str, str], needle: str) -> None:
    with pytest.raises(ValueError, match=needle.replace("(", r"\(")):
        load_settings(argv, env)


def test_a_bad_flag_exits_with_usage() -> None:
    with pytest.raises(SystemExit):
        load_settings(["--pcm-sample-rate", "12345"], {})


def test_exposed_bind_addresses() -> None:
    assert not Settings(host="127.0.0.1").exposed
    assert not Settings(host="localhost").exposed
    assert not Settings(host="::1").exposed
    assert Settings(host="0.0.0.0").exposed
    assert Settings(host="example.org").exposed
