"""Server settings: one pydantic-settings model, filled from CLI flags and ``SUPERTONIC_*``
variables by :func:`load_settings`.

Every field has a flag (``--max-queue``) and a variable (``SUPERTONIC_MAX_QUEUE``); a flag
wins over the variable, the variable over the default. On/off settings take
``--warmup`` / ``--no-warmup`` and ``1 0 true false yes no on off`` in the environment.
List settings (API keys, CORS origins) repeat the flag or separate values with commas.
A value that cannot be used is a :class:`ValueError` naming the flag, the variable and the
value; nothing is silently replaced by a default.

The request defaults (``--voice``, ``--speed``, ...) are not declared here: they are the
fields of :class:`~supertonic_core.options.SynthesisOptions` (types, defaults, ranges,
descriptions), each named as a client may name it (``--total-steps``). ``Settings(...)``
reads only what it is given; flags and variables are read by :func:`load_settings` alone.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import os
import sys
from collections.abc import Mapping, Sequence
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, Strict, ValidationError, create_model, model_validator
from pydantic.fields import FieldInfo
from pydantic_settings import (
    BaseSettings,
    CliSettingsSource,
    EnvSettingsSource,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)
from pydantic_settings.sources.utils import parse_env_vars
from supertonic_core.audio import SAMPLE_RATES
from supertonic_core.bundle import SYNTHETIC_PROFILES
from supertonic_core.engine import WARMUP_TEXT
from supertonic_core.errors import quote_value
from supertonic_core.options import ALIASES, SynthesisOptions
from supertonic_core.pronunciation import PronunciationDictionary, load_dictionaries
from supertonic_core.runtime import CONV_SEARCH, DEVICES, RuntimeOptions

from .metrics import BUFFER_RANGE

ENV_PREFIX = "SUPERTONIC_"
LOG_LEVELS = ("debug", "info", "warning", "error")
#: Flags not spelled like their field (the variable is): ``--ui`` sets ``ui_enabled``.
FLAGS = {
    "ui_enabled": "--ui",
    "ws_enabled": "--ws",
    "http_enabled": "--http",
    "supertone_enabled": "--supertone",
    "api_keys": "--api-key",
    "lexicon_files": "--lexicon",
}
REQUEST_DEFAULTS = (
    "request defaults",
    "Each request (HTTP body, WebSocket config, Wyoming, Supertone API) may give its own.",
)


def _split(value: Any) -> Any:
    if isinstance(value, str):  # a variable, or the flags joined by pydantic-settings
        return tuple(v.strip() for v in value.split(",") if v.strip())
    return value


#: Repeated flags or comma-separated values; each one non-empty.
Items = Annotated[
    tuple[Annotated[str, Field(min_length=1)], ...], NoDecode, BeforeValidator(_split)
]
#: One of the sample rates (from a flag or a variable: its digits).
Rate = Annotated[
    Literal[SAMPLE_RATES],
    BeforeValidator(lambda v: int(v) if isinstance(v, str) and v.isdigit() else v),
]


def _request_fields() -> dict[str, Any]:
    """The request options as settings: the model's fields, named as a client may name them."""
    fields: dict[str, Any] = {}
    for name, info in SynthesisOptions.model_fields.items():
        field = FieldInfo.merge_field_infos(info, validation_alias=None, alias=None)
        # not strict: flags and variables arrive as text
        field.metadata = [m for m in field.metadata if not isinstance(m, Strict)]
        annotation: Any = info.annotation
        if "tuple" in str(annotation):  # lists as everywhere here: repeat or comma-separate
            annotation = Annotated[annotation, NoDecode, BeforeValidator(_split)]
        fields[ALIASES.get(name, name)] = (annotation, field)
    return fields


#: The request defaults: the fields :class:`Settings` takes from the request model.
RequestDefaults = create_model("RequestDefaults", **_request_fields())


class Settings(BaseSettings, RequestDefaults):
    """OpenAI-compatible streaming TTS server for Supertonic-3: flags win over variables (env:)."""

    model_config = SettingsConfigDict(
        frozen=True,
        populate_by_name=True,
        env_prefix=ENV_PREFIX,
        env_prefix_target="all",  # an alias is prefixed too: SUPERTONIC_API_KEY
        env_ignore_empty=True,
        env_parse_none_str="null",  # as on the command line
        cli_prog_name="supertonic-server",
        cli_kebab_case=True,
        cli_implicit_flags=True,  # --warmup / --no-warmup
        cli_hide_none_type=True,
        cli_show_env_vars=True,
        use_attribute_docstrings=True,  # the help of each flag
    )

    host: str = "127.0.0.1"
    """bind address (anything but loopback wants --api-key)"""
    port: int = Field(8000, ge=1, le=65535)
    """bind port"""
    device: Literal[DEVICES] = "auto"
    """ONNX execution provider"""
    model: str = "supertonic-3"
    """model to serve"""
    model_dir: str | None = None
    """bundle directory (else the cache, else download)"""
    voices_dir: str | None = None
    """folder of custom voice-style JSON files (else `voices` in the per-user data folder)"""
    lexicon_files: Items = Field((), validation_alias="lexicon")
    """pronunciation dictionary: a W3C PLS (.pls, .xml) or JSON file, named by its file name
    without the extension (repeat the flag, or comma-separate); a request applies every one
    unless it names some (lexicons)"""
    phrase_cache: int = Field(0, ge=0)
    """entries of the phrase cache (repeated short chunks served without synthesis); 0 = off"""
    intra_threads: int | None = Field(None, ge=1)
    """ONNX intra-op threads (default: all cores)"""
    inter_threads: int | None = Field(None, ge=1)
    """ONNX inter-op threads"""
    device_id: int = Field(0, ge=0)
    """which GPU (cuda, tensorrt)"""
    conv_search: Literal[CONV_SEARCH] = "heuristic"
    """how cuDNN picks convolution algorithms for a new shape (exhaustive: slow first calls)"""
    gpu_mem_limit_mb: int | None = Field(None, ge=1)
    """most memory the CUDA arena may take, in MB (default: no limit)"""
    tensorrt_cache: str | None = None
    """folder of TensorRT's compiled engines (default: beside the model cache)"""
    workers: Annotated[int, Field(ge=1)] | Literal["auto"] = "auto"
    """runtimes run at once: auto (one per visible GPU; on a CPU, the split of the cores
    calibration measures fastest, one worker up to 7 cores) or a number"""
    io_binding: bool | None = None
    """keep the denoising state on the device between steps (default: on for cuda and tensorrt)"""
    buckets: bool | None = None
    """round shapes up to fixed buckets, all visited at warm-up (default: on for cuda and tensorrt)"""
    cuda_graph: bool = False
    """replay recorded CUDA graphs per shape bucket (cuda, tensorrt only; not run on a GPU yet)"""
    max_concurrent: int | None = Field(None, ge=1)
    """streams synthesized at once (default: from measured capacity)"""
    max_queue: int = Field(64, ge=0)
    """streams allowed to wait; one more gets 429"""
    warmup: bool = True
    """run one synthesis before reporting ready"""
    warmup_text: str = WARMUP_TEXT
    """the warm-up utterance"""
    ui_enabled: bool = True
    """serve the web console at /"""
    ws_enabled: bool = True
    """serve the WebSocket endpoint"""
    ws_max_contexts: int = Field(8, ge=1)
    """open contexts allowed on one WebSocket"""
    ws_idle_timeout: float = Field(60.0, gt=0)
    """seconds a WebSocket may stay silent (no messages, no audio) before it is closed"""
    ws_send_queue: int = Field(16, ge=1)
    """audio messages buffered per WebSocket for a slow reader before synthesis waits"""
    ws_send_timeout: float = Field(20.0, gt=0)
    """seconds a WebSocket send may wait for a client that stopped reading before the socket
    is closed"""
    ws_flush_after: float = Field(3.0, gt=0)
    """seconds without new text after which a WebSocket context's unflushed text is spoken
    (and a paused utterance gives its synthesis slot back)"""
    ws_context_idle_timeout: float = Field(20.0, gt=0)
    """seconds without messages or audio after which a WebSocket context with nothing to say
    is closed (context_closed, reason idle_timeout)"""
    ws_max_utterances: int = Field(4, ge=1)
    """utterances in progress (first text to audio_end) allowed on one WebSocket"""
    ws_max_utterances_per_key: int = Field(16, ge=1)
    """utterances in progress allowed over all WebSockets of one API key"""
    ws_max_pending_chars: int = Field(8192, ge=1)
    """characters one WebSocket may have waiting to be spoken, over all its contexts (one
    context: --max-input-chars)"""
    wyoming_port: int | None = Field(None, ge=1, le=65535)
    """also serve the Wyoming protocol (Home Assistant's TTS) on this port of --host; 10200
    is customary; off by default"""
    http_enabled: bool = True
    """serve HTTP (OpenAI API, WebSocket, console, metrics, health); --no-http with
    --wyoming-port serves Wyoming alone"""
    supertone_enabled: bool = True
    """serve Supertone's cloud API under /supertone (its SDK's server_url)"""
    supertone_credits: float | None = Field(None, ge=0)
    """credit balance of the Supertone API, in minutes of audio (default: unlimited)"""
    log_level: Literal[LOG_LEVELS] = "info"
    """log level"""
    max_input_chars: int = Field(4096, ge=1)
    """longest accepted input, in characters"""
    body_timeout: float = Field(10.0, gt=0)
    """seconds a client has to send a request body whole; later is 408"""
    api_keys: Items = Field((), validation_alias="api_key")
    """accepted API key (repeat the flag, or comma-separate); none = open"""
    cors_origins: Items = ()
    """allowed CORS origin (repeat the flag, or comma-separate; '*' for any)"""
    synthetic: Literal[SYNTHETIC_PROFILES] | None = None
    """serve a generated random-weight bundle of this profile (output is noise): for tests
    and benchmarks without the real weights"""
    pcm_sample_rate: Rate = 24000
    """sample rate of response_format=pcm when the request names none (OpenAI: 24000)"""
    observability_buffer_size: int = Field(100, ge=BUFFER_RANGE[0], le=BUFFER_RANGE[1])
    """finished requests kept for /metrics/recent and the percentiles"""
    shutdown_grace: float = Field(10.0, ge=0)
    """seconds in-flight streams may take to finish at shutdown before they are cancelled"""

    def __init__(self, **values: Any) -> None:
        try:
            super().__init__(**values)
        except ValidationError as exc:
            raise ValueError("; ".join(map(_explain, exc.errors()))) from None

    @classmethod
    def settings_customise_sources(
        cls, settings_cls: type[BaseSettings], init_settings: PydanticBaseSettingsSource, **_: Any
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings,)  # the given values only: load_settings reads flags and variables

    @model_validator(mode="after")
    def _consistent(self) -> Settings:
        if self.http_enabled and self.wyoming_port == self.port:
            raise ValueError("--wyoming-port and --port must differ: each needs its own port")
        if not self.http_enabled and self.wyoming_port is None:
            raise ValueError("--no-http leaves nothing to serve: add --wyoming-port")
        if self.synthetic and self.model_dir:
            raise ValueError("--synthetic and --model-dir exclude each other: pick one bundle")
        return self

    def pronunciation_dictionaries(self) -> list[PronunciationDictionary]:
        """The --lexicon files, read (:class:`LexiconError` naming the file and the problem)."""
        return load_dictionaries(self.lexicon_files)

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
        return {**self.model_dump(), "api_keys": f"<{len(self.api_keys)} configured>"}

    def synthesis_defaults(self) -> SynthesisOptions:
        """The options of a request that gives none: the request-default fields."""
        fields = set(RequestDefaults.model_fields)
        return SynthesisOptions.model_validate(self.model_dump(include=fields))

    def runtime_options(self) -> RuntimeOptions:
        """How the engine runs its graphs: the settings named as RuntimeOptions' fields."""
        names = {f.name for f in dataclasses.fields(RuntimeOptions)}
        return RuntimeOptions(**self.model_dump(include=names))


def setting(key: str) -> str:
    """The field that ``key`` (a field name, or the alias pydantic-settings uses) names."""
    return next(n for n, f in Settings.model_fields.items() if key in (n, f.validation_alias))


def names(field: str) -> tuple[str, str]:
    """The flag and the variable of ``field``: ``("--api-key", "SUPERTONIC_API_KEY")``."""
    variable = ENV_PREFIX + str(Settings.model_fields[field].validation_alias or field).upper()
    return FLAGS.get(field, "--" + field.replace("_", "-")), variable


def variables() -> set[str]:
    """Every ``SUPERTONIC_*`` variable the settings read."""
    return {names(field)[1] for field in Settings.model_fields}


def _explain(error: Any) -> str:
    """One pydantic error in words: ``--port / SUPERTONIC_PORT must be ..., got 'x'``."""
    kind, ctx, loc = error["type"], error.get("ctx") or {}, error["loc"]
    if not loc:  # a check of several settings: its message says it all
        return str(ctx.get("error", error["msg"]))
    if str(loc[0]) not in Settings.model_fields and kind == "extra_forbidden":
        return f"unknown setting {loc[0]!r}"
    field = setting(str(loc[0]))
    bound = {
        k: getattr(m, k)
        for m in Settings.model_fields[field].metadata
        for k in ("ge", "le", "gt")
        if hasattr(m, k)
    }
    expected = {
        "int_parsing": "an integer",
        "int_from_float": "an integer",
        "float_parsing": "a number",
        "bool_parsing": "one of 1 0 true false yes no on off",
        "string_too_short": "non-empty",
        "literal_error": "one of "
        + str(ctx.get("expected")).replace("'", "").replace(" or ", ", "),
        "greater_than": f"more than {bound.get('gt')}",
        "greater_than_equal": f"{bound.get('ge')} or more",
        "less_than_equal": f"{bound.get('le')} or less",
    }.get(kind, error["msg"].removeprefix("Input should be "))
    if kind.endswith("_equal") and "ge" in bound and "le" in bound:
        expected = f"between {bound['ge']} and {bound['le']}"
    flag, variable = names(field)
    return f"{flag} / {variable} must be {expected}, got {quote_value(error['input'])}"


class _Environment(EnvSettingsSource):
    """The ``SUPERTONIC_*`` variables of a given mapping (``os.environ`` by default)."""

    def __init__(self, environ: Mapping[str, str]) -> None:
        self.environ = environ
        super().__init__(Settings)

    def _load_env_vars(self) -> Mapping[str, str | None]:
        return parse_env_vars(
            self.environ, self.case_sensitive, self.env_ignore_empty, self.env_parse_none_str
        )


def _add_argument(parser: Any, *flags: str, dest: str = "", **kw: Any) -> Any:
    """pydantic-settings' ``add_argument`` call, with our flag names, metavars and group."""
    if not dest:  # --help
        return parser.add_argument(*flags, **kw)
    field = setting(dest)
    flag = names(field)[0]
    if not kw.get("metavar", "{").startswith("{"):  # choices list themselves
        kw["metavar"] = flag.removeprefix("--").replace("-", "_").upper()
    if field in RequestDefaults.model_fields:
        if "requests" not in vars(parser):
            parser.requests = parser.add_argument_group(*REQUEST_DEFAULTS)
        parser = parser.requests
    return parser.add_argument(flag, dest=dest, **kw)


def load_settings(
    argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None
) -> Settings:
    """Settings from ``argv`` (flags) over ``environ`` (``SUPERTONIC_*``) over the defaults.

    Raises:
        ValueError: a value or a combination of values that cannot be used, named.
        SystemExit: a flag argparse cannot read (argparse prints the usage), or ``--help``.
    """
    env = _Environment(os.environ if environ is None else environ)
    args = list(sys.argv[1:] if argv is None else argv)
    cli = CliSettingsSource(Settings, cli_parse_args=args, add_argument_method=_add_argument)
    return Settings(**{**env(), **cli()})
