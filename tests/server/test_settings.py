"""Settings from flags over SUPERTONIC_* variables over defaults; bad values are named."""

from __future__ import annotations

import re
import sys
from typing import Any

import pytest
from pydantic import BeforeValidator, Strict
from pydantic_settings import NoDecode
from supertonic_core.options import ALIASES, SPEED_RANGE, STEPS_RANGE, SynthesisOptions
from supertonic_core.runtime import RuntimeOptions
from supertonic_server.settings import Settings, load_settings, names, variables

#: Every flag and variable the server had before pydantic-settings (less --policy, gone with
#: the fifo scheduler), plus --seed: (flag, variable, text given, attribute, value read).
OLD = [
    ("--host", "SUPERTONIC_HOST", "0.0.0.0", "host", "0.0.0.0"),
    ("--port", "SUPERTONIC_PORT", "9001", "port", 9001),
    ("--device", "SUPERTONIC_DEVICE", "cpu", "device", "cpu"),
    ("--model", "SUPERTONIC_MODEL", "supertonic-2", "model", "supertonic-2"),
    ("--model-dir", "SUPERTONIC_MODEL_DIR", "/m", "model_dir", "/m"),
    ("--voices-dir", "SUPERTONIC_VOICES_DIR", "/v", "voices_dir", "/v"),
    ("--voice", "SUPERTONIC_VOICE", "M2", "voice", "M2"),
    ("--lang", "SUPERTONIC_LANG", "ko", "lang", "ko"),
    ("--speed", "SUPERTONIC_SPEED", "1.5", "speed", 1.5),
    ("--total-steps", "SUPERTONIC_TOTAL_STEPS", "4", "total_steps", 4),
    ("--first-chunk-steps", "SUPERTONIC_FIRST_CHUNK_STEPS", "2", "first_chunk_steps", 2),
    ("--seed", "SUPERTONIC_SEED", "7", "seed", 7),
    ("--no-normalize", "SUPERTONIC_NORMALIZE", "off", "normalize", False),
    ("--emoji", "SUPERTONIC_EMOJI", "name", "emoji", "name"),
    ("--phrase-cache", "SUPERTONIC_PHRASE_CACHE", "32", "phrase_cache", 32),
    ("--intra-threads", "SUPERTONIC_INTRA_THREADS", "2", "intra_threads", 2),
    ("--inter-threads", "SUPERTONIC_INTER_THREADS", "1", "inter_threads", 1),
    ("--device-id", "SUPERTONIC_DEVICE_ID", "1", "device_id", 1),
    ("--conv-search", "SUPERTONIC_CONV_SEARCH", "exhaustive", "conv_search", "exhaustive"),
    ("--gpu-mem-limit-mb", "SUPERTONIC_GPU_MEM_LIMIT_MB", "2048", "gpu_mem_limit_mb", 2048),
    ("--tensorrt-cache", "SUPERTONIC_TENSORRT_CACHE", "/models/trt", "tensorrt_cache", "/models/trt"),
    ("--workers", "SUPERTONIC_WORKERS", "3", "workers", 3),
    ("--no-io-binding", "SUPERTONIC_IO_BINDING", "off", "io_binding", False),
    ("--no-buckets", "SUPERTONIC_BUCKETS", "0", "buckets", False),
    ("--no-cuda-graph", "SUPERTONIC_CUDA_GRAPH", "no", "cuda_graph", False),
    ("--max-concurrent", "SUPERTONIC_MAX_CONCURRENT", "3", "max_concurrent", 3),
    ("--max-queue", "SUPERTONIC_MAX_QUEUE", "5", "max_queue", 5),
    ("--no-warmup", "SUPERTONIC_WARMUP", "0", "warmup", False),
    ("--warmup-text", "SUPERTONIC_WARMUP_TEXT", "Hi there.", "warmup_text", "Hi there."),
    ("--no-ui", "SUPERTONIC_UI_ENABLED", "no", "ui_enabled", False),
    ("--no-ws", "SUPERTONIC_WS_ENABLED", "false", "ws_enabled", False),
    ("--ws-max-contexts", "SUPERTONIC_WS_MAX_CONTEXTS", "2", "ws_max_contexts", 2),
    ("--ws-idle-timeout", "SUPERTONIC_WS_IDLE_TIMEOUT", "5.5", "ws_idle_timeout", 5.5),
    ("--ws-send-queue", "SUPERTONIC_WS_SEND_QUEUE", "4", "ws_send_queue", 4),
    ("--ws-send-timeout", "SUPERTONIC_WS_SEND_TIMEOUT", "2.5", "ws_send_timeout", 2.5),
    ("--ws-flush-after", "SUPERTONIC_WS_FLUSH_AFTER", "1.5", "ws_flush_after", 1.5),
    ("--ws-context-idle-timeout", "SUPERTONIC_WS_CONTEXT_IDLE_TIMEOUT", "7", "ws_context_idle_timeout", 7.0),
    ("--ws-max-utterances", "SUPERTONIC_WS_MAX_UTTERANCES", "2", "ws_max_utterances", 2),
    ("--ws-max-utterances-per-key", "SUPERTONIC_WS_MAX_UTTERANCES_PER_KEY", "3", "ws_max_utterances_per_key", 3),
    ("--ws-max-pending-chars", "SUPERTONIC_WS_MAX_PENDING_CHARS", "100", "ws_max_pending_chars", 100),
    ("--wyoming-port", "SUPERTONIC_WYOMING_PORT", "10300", "wyoming_port", 10300),
    ("--no-http", "SUPERTONIC_HTTP_ENABLED", "0", "http_enabled", False),
    ("--no-supertone", "SUPERTONIC_SUPERTONE_ENABLED", "off", "supertone_enabled", False),
    ("--supertone-credits", "SUPERTONIC_SUPERTONE_CREDITS", "12.5", "supertone_credits", 12.5),
    ("--log-level", "SUPERTONIC_LOG_LEVEL", "debug", "log_level", "debug"),
    ("--max-input-chars", "SUPERTONIC_MAX_INPUT_CHARS", "100", "max_input_chars", 100),
    ("--body-timeout", "SUPERTONIC_BODY_TIMEOUT", "3", "body_timeout", 3.0),
    ("--api-key", "SUPERTONIC_API_KEY", "k1,k2", "api_keys", ("k1", "k2")),
    ("--cors-origins", "SUPERTONIC_CORS_ORIGINS", "http://x", "cors_origins", ("http://x",)),
    ("--synthetic", "SUPERTONIC_SYNTHETIC", "tiny", "synthetic", "tiny"),
    ("--pcm-sample-rate", "SUPERTONIC_PCM_SAMPLE_RATE", "16000", "pcm_sample_rate", 16000),
    ("--observability-buffer-size", "SUPERTONIC_OBSERVABILITY_BUFFER_SIZE", "500", "observability_buffer_size", 500),
    ("--shutdown-grace", "SUPERTONIC_SHUTDOWN_GRACE", "2.5", "shutdown_grace", 2.5),
    # issue 27: pronunciation dictionaries and detection per sentence
    ("--lexicon", "SUPERTONIC_LEXICON", "brands.pls,names.json", "lexicon_files", ("brands.pls", "names.json")),
    ("--lexicons", "SUPERTONIC_LEXICONS", "brands,names", "lexicons", ("brands", "names")),
    ("--pronunciations", "SUPERTONIC_PRONUNCIATIONS", '{"SQL": "sequel"}', "pronunciations", {"SQL": "sequel"}),
    ("--no-detect-lang", "SUPERTONIC_DETECT_LANG", "off", "detect_lang", False),
]  # fmt: skip
#: With --no-http a Wyoming port is needed: every case below has one (the row's own wins).
WYOMING = {"SUPERTONIC_WYOMING_PORT": "10200"}


@pytest.mark.parametrize(("flag", "variable", "text", "attribute", "value"), OLD)
def test_every_flag_and_variable_is_still_read(
    flag: str, variable: str, text: str, attribute: str, value: Any
) -> None:
    argv = [flag] if flag.startswith("--no-") else [flag, text]
    assert getattr(load_settings(argv, WYOMING), attribute) == value
    assert getattr(load_settings([], {**WYOMING, variable: text}), attribute) == value
    assert names(attribute) == (flag.replace("--no-", "--"), variable)


def test_the_table_names_every_setting() -> None:
    assert {row[3] for row in OLD} == set(Settings.model_fields)
    assert {row[1] for row in OLD} == variables()


@pytest.mark.parametrize("word", ["1", "true", "yes", "on", "TRUE", "On"])
def test_on_off_words(word: str) -> None:
    env = {"SUPERTONIC_WARMUP": word, "SUPERTONIC_NORMALIZE": word}
    assert load_settings([], env).warmup and load_settings([], env).normalize
    env = {"SUPERTONIC_WARMUP": "0", "SUPERTONIC_NORMALIZE": "no"}
    assert load_settings(["--warmup", "--normalize"], env).warmup  # the flag wins


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
        "SUPERTONIC_MODEL_DIR": "",  # empty: not set
    }
    argv = ["--port", "9002", "--api-key", "sk-c", "--api-key", "sk-d,sk-e", "--no-ui"]
    s = load_settings(argv, env)
    assert s.port == 9002 and s.max_queue == 3 and s.speed == 1.2
    assert not s.warmup and not s.ws_enabled and not s.ui_enabled
    assert s.api_keys == ("sk-c", "sk-d", "sk-e")  # the flag replaces the variable
    assert s.cors_origins == ("http://x", "http://y")
    assert s.synthetic == "tiny" and s.model_dir is None
    assert "sk-" not in str(s.public())


def test_null_unsets() -> None:
    env = {"SUPERTONIC_WYOMING_PORT": "10200", "SUPERTONIC_FIRST_CHUNK_STEPS": "null"}
    s = load_settings(["--wyoming-port", "null"], env)
    assert s.wyoming_port is None and s.first_chunk_steps is None


@pytest.mark.parametrize(
    ("argv", "env", "needle"),
    [
        ([], {"SUPERTONIC_WARMUP": "maybe"}, "SUPERTONIC_WARMUP must be one of 1 0 true false"),
        ([], {"SUPERTONIC_PORT": "http"}, "--port / SUPERTONIC_PORT must be an integer, got 'http'"),
        (["--port", "0"], {}, "--port / SUPERTONIC_PORT must be between 1 and 65535, got '0'"),
        (["--total-steps", "40"], {}, "--total-steps / SUPERTONIC_TOTAL_STEPS must be between 1"),
        (
            ["--first-chunk-steps", "0"],
            {},
            "--first-chunk-steps / SUPERTONIC_FIRST_CHUNK_STEPS must be between 1 and 32, got '0'",
        ),
        ([], {"SUPERTONIC_FIRST_CHUNK_STEPS": "33"}, "FIRST_CHUNK_STEPS must be between 1 and 32"),
        ([], {"SUPERTONIC_FIRST_CHUNK_STEPS": "fast"}, "FIRST_CHUNK_STEPS must be an integer"),
        (["--speed", "3"], {}, "--speed / SUPERTONIC_SPEED must be between 0.5 and 2.0, got '3'"),
        (["--seed", "-1"], {}, "--seed / SUPERTONIC_SEED must be 0 or more, got '-1'"),
        (["--emoji", "keep"], {}, "--emoji / SUPERTONIC_EMOJI must be one of remove, name"),
        (["--phrase-cache", "-1"], {}, "--phrase-cache / SUPERTONIC_PHRASE_CACHE must be 0"),
        ([], {"SUPERTONIC_PHRASE_CACHE": "lots"}, "SUPERTONIC_PHRASE_CACHE must be an integer"),
        ([], {"SUPERTONIC_PCM_SAMPLE_RATE": "12345"}, "one of 8000, 16000, 22050, 24000"),
        (["--pcm-sample-rate", "12345"], {}, "--pcm-sample-rate / SUPERTONIC_PCM_SAMPLE_RATE"),
        (["--synthetic", "tiny", "--model-dir", "/m"], {}, "exclude each other"),
        (["--max-queue", "-1"], {}, "0 or more"),
        (["--ws-idle-timeout", "0"], {}, "--ws-idle-timeout / SUPERTONIC_WS_IDLE_TIMEOUT must be more than 0"),
        ([], {"SUPERTONIC_BODY_TIMEOUT": "soon"}, "SUPERTONIC_BODY_TIMEOUT must be a number, got 'soon'"),
        ([], {"SUPERTONIC_DEVICE": "tpu"}, "--device / SUPERTONIC_DEVICE must be one of auto, cpu"),
        (["--observability-buffer-size", "5"], {}, "must be between 10 and 10000, got '5'"),
        (["--wyoming-port", "8000"], {}, "--wyoming-port and --port must differ"),
        (["--no-http"], {}, "--no-http leaves nothing to serve: add --wyoming-port"),
        (["--pronunciations", '{"SQL": ""}'], {}, "--pronunciations / SUPERTONIC_PRONUNCIATIONS"),
        (["--port", "x"], {"SUPERTONIC_MAX_QUEUE": "-1"}, "an integer, got 'x'; --max-queue"),
    ],
)  # fmt: skip
def test_bad_values_are_named(argv: list[str], env: dict[str, str], needle: str) -> None:
    with pytest.raises(ValueError, match=re.escape(needle)):
        load_settings(argv, env)


def test_settings_built_in_code_are_checked_and_named_the_same() -> None:
    with pytest.raises(ValueError, match=re.escape("--api-key / SUPERTONIC_API_KEY must be non")):
        Settings(api_keys=("",))
    with pytest.raises(ValueError, match=re.escape("WYOMING_PORT must be between 1 and 65535")):
        Settings(wyoming_port=70000)
    with pytest.raises(ValueError, match="unknown setting 'policy'"):
        Settings(policy="fifo")


@pytest.mark.parametrize("argv", [["--no-such-flag"], ["--warmup=maybe"], ["--port"]])
def test_a_flag_argparse_cannot_read_exits_with_usage(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        load_settings(argv, {})
    assert exited.value.code == 2 and "usage: supertonic-server" in capsys.readouterr().err


def test_help_lists_each_flag_with_its_help_default_and_variable(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "2000")  # no line wrapped inside a word
    with pytest.raises(SystemExit) as exited:
        load_settings(["--help"], {})
    assert exited.value.code == 0
    text = capsys.readouterr().out
    entries = [" ".join(entry.split()) for entry in re.split(r"\n(?=  -)", text)]
    for field, info in Settings.model_fields.items():
        flag, variable = names(field)
        (entry,) = [e for e in entries if e.startswith((f"{flag} ", f"{flag},"))]
        default = "null" if info.default is None else info.default
        assert " ".join(str(info.description).split()) in entry, field
        assert f"(default: {default}) [env: {variable}" in entry, field
        if info.annotation is bool:
            assert entry.startswith(f"{flag}, --no-{flag[2:]} "), field
    assert "--device {auto,cpu,cuda,tensorrt,coreml}" in text and "\nrequest defaults:\n" in text


def test_the_runtime_settings_reach_the_engine() -> None:
    settings = load_settings(
        [
            "--device",
            "cuda",
            "--device-id",
            "1",
            "--gpu-mem-limit-mb",
            "512",
            "--workers",
            "2",
            "--cuda-graph",
        ],
        {},
    )
    assert settings.runtime_options() == RuntimeOptions(
        device="cuda", device_id=1, gpu_mem_limit_mb=512, workers=2, cuda_graph=True
    )
    assert load_settings(["--io-binding", "--buckets"], {}).runtime_options() == RuntimeOptions(
        io_binding=True, buckets=True
    )
    assert load_settings([], {}).runtime_options().workers == "auto"
    with pytest.raises(ValueError, match="--workers"):
        load_settings(["--workers", "0"], {})


def test_the_request_defaults_are_the_request_models_fields() -> None:
    for name, option in SynthesisOptions.model_fields.items():
        setting = Settings.model_fields[ALIASES.get(name, name)]
        assert setting.annotation == option.annotation, name
        assert setting.default == option.default, name
        loose = [m for m in option.metadata if not isinstance(m, Strict)]  # text: not strict
        # the ranges; a list also reads "a,b" from a variable, as the server's own lists do
        read = [
            m for m in setting.metadata if m is not NoDecode and not isinstance(m, BeforeValidator)
        ]
        assert read == loose, name
        assert setting.description == option.description, name
    assert Settings().synthesis_defaults() == SynthesisOptions()
    s = load_settings(["--total-steps", "4", "--seed", "7", "--no-normalize"], {})
    assert s.synthesis_defaults() == SynthesisOptions(steps=4, seed=7, normalize=False)
    lo, hi = STEPS_RANGE
    with pytest.raises(ValueError, match=f"between {lo} and {hi}, got {hi + 1}"):
        Settings(total_steps=hi + 1)
    with pytest.raises(ValueError, match=f"between {SPEED_RANGE[0]} and {SPEED_RANGE[1]}"):
        Settings(speed=SPEED_RANGE[1] * 2)


def test_settings_in_code_read_neither_the_command_line_nor_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SUPERTONIC_PORT", "9999")
    monkeypatch.setattr(sys, "argv", ["supertonic-server", "--port", "9998"])
    assert Settings().port == 8000
    assert load_settings([]).port == 9999  # the process's environment
    assert load_settings().port == 9998  # and its command line


def test_a_copy_with_changes_and_no_change_in_place() -> None:
    s = Settings()
    assert s.model_copy(update={"warmup": False}).warmup is False and s.warmup
    with pytest.raises(ValueError):
        s.port = 1  # type: ignore[misc]


def test_exposed_bind_addresses() -> None:
    assert not Settings(host="127.0.0.1").exposed
    assert not Settings(host="localhost").exposed
    assert not Settings(host="::1").exposed
    assert Settings(host="0.0.0.0").exposed
    assert Settings(host="example.org").exposed
