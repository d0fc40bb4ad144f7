"""Server settings: one dataclass, filled from CLI flags and ``SUPERTONIC_*`` variables.

Every field has a flag (``--max-queue``) and a variable (``SUPERTONIC_MAX_QUEUE``); a flag
wins over the variable, the variable over the default. On/off settings take
``--warmup`` / ``--no-warmup`` and ``1 0 true false yes no on off`` in the environment.
List settings (API keys, CORS origins) repeat the flag or separate values with commas in
the variable. A value that cannot be read is an error naming the flag or the variable;
nothing is silently replaced by a default.
"""

from __future__ import annotations

import argparse
import ipaddress
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import Any

from supertonic_core.audio import SAMPLE_RATES
from supertonic_core.bundle import SYNTHETIC_PROFILES
from supertonic_core.engine import WARMUP_TEXT
from supertonic_core.options import EMOJI_CHOICES, STEPS_RANGE, SynthesisOptions
from supertonic_core.runtime import DEVICES
from supertonic_core.scheduler import POLICIES

from .metrics import BUFFER_RANGE

ENV_PREFIX = "SUPERTONIC_"
LOG_LEVELS = ("debug", "info", "warning", "error")
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def _opt(
    help: str,
    *,
    choices: Sequence[Any] | None = None,
    flag: str | None = None,
    env: str | None = None,
    **kw: Any,
) -> Any:
    return field(metadata={"help": help, "choices": choices, "flag": flag, "env": env}, **kw)


@dataclass(frozen=True)
class Settings:
    """Everything the server can be told; see ``supertonic-server --help``."""

    host: str = _opt("bind address (anything but loopback wants --api-key)", default="127.0.0.1")
    port: int = _opt("bind port", default=8000)
    device: str = _opt("ONNX execution provider", choices=DEVICES, default="auto")
    model: str = _opt("model to serve", default="supertonic-3")
    model_dir: str | None = _opt("bundle directory (else the cache, else download)", default=None)
    voices_dir: str | None = _opt("folder of custom voice-style JSON files", default=None)
    voice: str = _opt("default voice (preset, OpenAI name, custom or blend)", default="F1")
    lang: str = _opt("default language code", default="en")
    speed: float = _opt("default speed, 0.5..2.0", default=1.05)
    total_steps: int = _opt("default flow-matching steps, 1..32 (fewer = faster)", default=8)
    first_chunk_steps: int | None = _opt(
        "steps for the first chunk of each stream only ('fast start': first audio sooner, a "
        "slightly less expressive first phrase), 1..32; --total-steps or more turns it off",
        default=SynthesisOptions().first_chunk_steps,
    )
    normalize: bool = _opt(
        "read text the way a person would (numbers, currency, dates, units, markdown, URLs, "
        "pause tags); requests may turn it off with normalize=false",
        default=SynthesisOptions().normalize,
    )
    emoji: str = _opt(
        "emoji in normalised text: remove them, or read their names",
        choices=EMOJI_CHOICES,
        default=SynthesisOptions().emoji,
    )
    phrase_cache: int = _opt(
        "entries of the phrase cache (repeated short chunks served without synthesis); 0 = off",
        default=0,
    )
    intra_threads: int | None = _opt("ONNX intra-op threads (default: all cores)", default=None)
    inter_threads: int | None = _opt("ONNX inter-op threads", default=None)
    max_concurrent: int | None = _opt(
        "streams synthesized at once (default: from measured capacity)", default=None
    )
    max_queue: int = _opt("streams allowed to wait; one more gets 429", default=64)
    policy: str = _opt(
        "scheduling policy (fifo: the peers' model, for benchmarks)",
        choices=POLICIES,
        default="deadline",
    )
    warmup: bool = _opt("run one synthesis before reporting ready", default=True)
    warmup_text: str = _opt("the warm-up utterance", default=WARMUP_TEXT)
    ui_enabled: bool = _opt("serve the web console at /", flag="--ui", default=True)
    ws_enabled: bool = _opt("serve the WebSocket endpoint", flag="--ws", default=True)
    ws_max_contexts: int = _opt("open contexts allowed on one WebSocket", default=8)
    ws_idle_timeout: float = _opt(
        "seconds a WebSocket may stay silent (no messages, no audio) before it is closed",
        default=60.0,
    )
    ws_send_queue: int = _opt(
        "audio messages buffered per WebSocket for a slow reader before synthesis waits",
        default=16,
    )
    ws_send_timeout: float = _opt(
        "seconds a WebSocket send may wait for a client that stopped reading before the "
        "socket is closed",
        default=20.0,
    )
    ws_flush_after: float = _opt(
        "seconds without new text after which a WebSocket context's unflushed text is spoken "
        "(and a paused utterance gives its synthesis slot back)",
        default=3.0,
    )
    ws_context_idle_timeout: float = _opt(
        "seconds without messages or audio after which a WebSocket context with nothing to "
        "say is closed (context_closed, reason idle_timeout)",
        default=20.0,
    )
    ws_max_utterances: int = _opt(
        "utterances in progress (first text to audio_end) allowed on one WebSocket",
        default=4,
    )
    ws_max_utterances_per_key: int = _opt(
        "utterances in progress allowed over all WebSockets of one API key",
        default=16,
    )
    ws_max_pending_chars: int = _opt(
        "characters one WebSocket may have waiting to be spoken, over all its contexts (one "
        "context: --max-input-chars)",
        default=8192,
    )
    wyoming_port: int | None = _opt(
        "also serve the Wyoming protocol (Home Assistant's TTS) on this port of --host; "
        "10200 is customary; off by default",
        default=None,
    )
    http_enabled: bool = _opt(
        "serve HTTP (OpenAI API, WebSocket, console, metrics, health); --no-http with "
        "--wyoming-port serves Wyoming alone",
        flag="--http",
        default=True,
    )
    supertone_enabled: bool = _opt(
        "serve Supertone's cloud API under /supertone (its SDK's server_url)",
        flag="--supertone",
        default=True,
    )
    supertone_credits: float | None = _opt(
        "credit balance of the Supertone API, in minutes of audio (default: unlimited)",
        default=None,
    )
    log_level: str = _opt("log level", choices=LOG_LEVELS, default="info")
    max_input_chars: int = _opt("longest accepted input, in characters", default=4096)
    body_timeout: float = _opt(
        "seconds a client has to send a request body whole; later is 408", default=10.0
    )
    api_keys: tuple[str, ...] = _opt(
        "accepted API key (repeat the flag, or comma-separate in SUPERTONIC_API_KEY); none = open",
        flag="--api-key",
        env="SUPERTONIC_API_KEY",
        default=(),
    )
    cors_origins: tuple[str, ...] = _opt(
        "allowed CORS origin (repeatable / comma-separated; '*' for any)", default=()
    )
    synthetic: str | None = _opt(
        "serve a generated random-weight bundle of this profile (output is noise): for tests "
        "and benchmarks without the real weights",
        choices=SYNTHETIC_PROFILES,
        default=None,
    )
    pcm_sample_rate: int = _opt(
        "sample rate of response_format=pcm when the request names none (OpenAI: 24000)",
        choices=SAMPLE_RATES,
        default=24000,
    )
    observability_buffer_size: int = _opt(
        "finished requests kept for /metrics/recent and the percentiles, 10..10000",
        default=100,
    )
    shutdown_grace: float = _opt(
        "seconds in-flight streams may take to finish at shutdown before they are cancelled",
        default=10.0,
    )

    def __post_init__(self) -> None:
        def bad(name: str, expected: str) -> ValueError:
            return ValueError(
                f"{_flag(name)} / {_env(name)} must be {expected}, got {getattr(self, name)!r}"
            )

        for f in fields(self):
            choices = f.metadata.get("choices")
            value = getattr(self, f.name)
            if choices and value is not None and value not in choices:
                raise bad(f.name, f"one of {', '.join(map(str, choices))}")
        if not 0 < self.port < 65536:
            raise bad("port", "between 1 and 65535")
        if self.wyoming_port is not None and not 0 < self.wyoming_port < 65536:
            raise bad("wyoming_port", "between 1 and 65535")
        if self.http_enabled and self.wyoming_port == self.port:
            raise ValueError("--wyoming-port and --port must differ: each needs its own port")
        if not self.http_enabled and self.wyoming_port is None:
            raise ValueError("--no-http leaves nothing to serve: add --wyoming-port")
        lo, hi = STEPS_RANGE
        if not lo <= self.total_steps <= hi:
            raise bad("total_steps", f"between {lo} and {hi}")
        if self.first_chunk_steps is not None and not lo <= self.first_chunk_steps <= hi:
            raise bad("first_chunk_steps", f"between {lo} and {hi}")
        if self.phrase_cache < 0:
            raise bad("phrase_cache", "0 (off) or more")
        for name in ("intra_threads", "inter_threads", "max_concurrent"):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise bad(name, "at least 1")
        if self.max_queue < 0:
            raise bad("max_queue", "0 or more")
        for name in (
            "ws_max_contexts",
            "ws_send_queue",
            "ws_max_utterances",
            "ws_max_utterances_per_key",
            "ws_max_pending_chars",
        ):
            if getattr(self, name) < 1:
                raise bad(name, "at least 1")
        for name in (
            "ws_idle_timeout",
            "ws_send_timeout",
            "ws_flush_after",
            "ws_context_idle_timeout",
        ):
            if getattr(self, name) <= 0:
                raise bad(name, "more than 0")
        if self.max_input_chars < 1:
            raise bad("max_input_chars", "at least 1")
        if self.body_timeout <= 0:
            raise bad("body_timeout", "more than 0")
        lo, hi = BUFFER_RANGE
        if not lo <= self.observability_buffer_size <= hi:
            raise bad("observability_buffer_size", f"between {lo} and {hi}")
        if self.supertone_credits is not None and self.supertone_credits < 0:
            raise bad("supertone_credits", "0 or more")
        if self.shutdown_grace < 0:
            raise bad("shutdown_grace", "0 or more")
        if self.synthetic and self.model_dir:
            raise ValueError("--synthetic and --model-dir exclude each other: pick one bundle")
        if any(not k for k in self.api_keys):
            raise bad("api_keys", "non-empty keys")

    @property
    def exposed(self) -> bool:
        """True when the bind address reaches beyond this machine."""
        if self.host == "localhost":
            return False
        try:
            return not ipaddress.ip_address(self.host).is_loopback
        except ValueError:
            return True  # a host name: assume it resolves beyond loopback

    def public(self) -> dict[str, Any]:
        """The settings for logs, with the API keys masked."""
        out = {f.name: getattr(self, f.name) for f in fields(self)}
        out["api_keys"] = f"<{len(self.api_keys)} configured>"
        return out


def _field(name: str) -> Any:
    return {f.name: f for f in fields(Settings)}[name]


def _flag(name: str) -> str:
    return _field(name).metadata.get("flag") or "--" + name.replace("_", "-")


def _env(name: str) -> str:
    return _field(name).metadata.get("env") or ENV_PREFIX + name.upper()


def _kind(f: Any) -> str:
    t = str(f.type)
    if t.startswith("bool"):
        return "bool"
    if t.startswith("tuple"):
        return "list"
    if t.startswith("int"):
        return "int"
    if t.startswith("float"):
        return "float"
    return "str"


def _from_env(f: Any, raw: str) -> Any:
    kind, name = _kind(f), _env(f.name)
    try:
        if kind == "bool":
            low = raw.strip().lower()
            if low in _TRUE | _FALSE:
                return low in _TRUE
            raise ValueError
        if kind == "list":
            return tuple(v.strip() for v in raw.split(",") if v.strip())
        if kind == "int":
            return int(raw)
        if kind == "float":
            return float(raw)
        return raw
    except ValueError:
        expected = {
            "bool": "one of 1 0 true false yes no on off",
            "int": "an integer",
            "float": "a number",
        }[kind]
        raise ValueError(f"{name} must be {expected}, got {raw!r}") from None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="supertonic-server",
        description="OpenAI-compatible streaming TTS server for Supertonic-3. Every flag also "
        "reads a SUPERTONIC_* environment variable (shown in brackets).",
    )
    for f in fields(Settings):
        kind = _kind(f)
        help_ = f"{f.metadata['help']} [{_env(f.name)}]"
        kw: dict[str, Any] = {"dest": f.name, "default": argparse.SUPPRESS, "help": help_}
        if f.metadata.get("choices"):
            kw["choices"] = f.metadata["choices"]
        if kind == "bool":
            parser.add_argument(_flag(f.name), action=argparse.BooleanOptionalAction, **kw)
        elif kind == "list":
            parser.add_argument(_flag(f.name), action="append", metavar="VALUE", **kw)
        else:
            conv = {"int": int, "float": float, "str": str}[kind]
            metavar = None if "choices" in kw else f.name.upper()  # argparse lists the choices
            parser.add_argument(_flag(f.name), type=conv, metavar=metavar, **kw)
    return parser


def load_settings(
    argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None
) -> Settings:
    """Settings from ``argv`` (flags) over ``environ`` (``SUPERTONIC_*``) over the defaults.

    Raises:
        ValueError: a variable or a combination of values that cannot be used, named.
        SystemExit: a flag argparse cannot read (argparse prints the usage).
    """
    environ = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    for f in fields(Settings):
        raw = environ.get(_env(f.name))
        if raw is not None and raw != "":
            values[f.name] = _from_env(f, raw)
    args = vars(build_parser().parse_args(argv))
    for name, value in args.items():
        if isinstance(value, list):  # repeated flags, each may itself be comma-separated
            value = tuple(v.strip() for item in value for v in item.split(",") if v.strip())
        values[name] = value
    return Settings(**values)
