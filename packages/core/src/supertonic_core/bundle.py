"""Finding, checking and downloading Supertonic model bundles.

A bundle is resolved from, in order: an explicit directory; the cache
(``SUPERTONIC_CACHE_DIR``, else ``~/.cache/supertonic3``); a download from the Hugging Face
Hub at the pinned revision. Downloads land in a temporary folder beside the cache and are
moved into place only once complete and verified, so a killed download never leaves a
half bundle that a later start would trust.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import socket
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from .errors import BundleDownloadError, BundleInvalidError, BundleNotFoundError, InvalidOptionError
from .languages import LANGUAGES
from .voices import PRESETS

logger = logging.getLogger("supertonic_core")

GRAPHS = ("duration_predictor", "text_encoder", "vector_estimator", "vocoder")
REQUIRED_FILES: tuple[str, ...] = (
    *(f"onnx/{g}.onnx" for g in GRAPHS),
    "onnx/tts.json",
    "onnx/unicode_indexer.json",
    *(f"voice_styles/{v}.json" for v in PRESETS),
)
REQUIRED_CONFIG: tuple[tuple[str, str], ...] = (
    ("ae", "sample_rate"),
    ("ae", "base_chunk_size"),
    ("ttl", "chunk_compress_factor"),
    ("ttl", "latent_dim"),
)


@dataclass(frozen=True)
class ModelSpec:
    """Where a published model lives and what it speaks."""

    name: str
    repo_id: str
    revision: str
    cache_folder: str
    languages: tuple[str, ...]
    tagged: bool = True  # supertonic-2/3 wrap text in <lang> tags; v1 is English-only, untagged


MODELS: dict[str, ModelSpec] = {
    "supertonic-3": ModelSpec(
        "supertonic-3",
        "Supertone/supertonic-3",
        "724fb5abbf5502583fb520898d45929e62f02c0b",
        "supertonic3",
        tuple(LANGUAGES),
    ),
    "supertonic-2": ModelSpec(
        "supertonic-2",
        "Supertone/supertonic-2",
        "75e6727618a02f323c720cba9478152d4bc16ca4",
        "supertonic2",
        ("en", "ko", "es", "pt", "fr"),
    ),
    "supertonic": ModelSpec(
        "supertonic",
        "Supertone/supertonic",
        "b6856d033f622c63ea29441795be266a1133e227",
        "supertonic",
        ("en",),
        tagged=False,
    ),
}


@dataclass(frozen=True)
class Bundle:
    """A verified bundle on disk."""

    path: Path
    config: dict[str, Any] = field(repr=False)
    model: str = "supertonic-3"

    @property
    def spec(self) -> ModelSpec:
        return MODELS[self.model]

    @property
    def synthetic(self) -> dict[str, Any] | None:
        """The generator's marker when this bundle has random weights; None for a real one."""
        marker = self.config.get("synthetic")
        return marker if isinstance(marker, dict) else None

    @property
    def sample_rate(self) -> int:
        return int(self.config["ae"]["sample_rate"])

    @property
    def samples_per_frame(self) -> int:
        """Audio samples one latent frame covers (512 × 6 = 3072 for Supertonic)."""
        return int(self.config["ae"]["base_chunk_size"]) * int(
            self.config["ttl"]["chunk_compress_factor"]
        )

    @property
    def latent_channels(self) -> int:
        return int(self.config["ttl"]["latent_dim"]) * int(
            self.config["ttl"]["chunk_compress_factor"]
        )

    def graph(self, name: str) -> Path:
        return self.path / "onnx" / f"{name}.onnx"

    @property
    def indexer_path(self) -> Path:
        return self.path / "onnx" / "unicode_indexer.json"

    @property
    def voices_dir(self) -> Path:
        return self.path / "voice_styles"


def verify_bundle(path: str | Path, *, model: str = "supertonic-3") -> Bundle:
    """Check the layout and ``tts.json`` keys; the error names exactly what is missing."""
    path = Path(path).expanduser()
    if not path.is_dir():
        raise BundleNotFoundError(f"no model bundle at {path}: not a directory")
    missing = [f for f in REQUIRED_FILES if not (path / f).is_file()]
    if missing:
        raise BundleInvalidError(f"bundle {path} is incomplete: missing {', '.join(missing)}")
    try:
        config = json.loads((path / "onnx/tts.json").read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise BundleInvalidError(
            f"bundle {path}: onnx/tts.json is not valid JSON ({exc})"
        ) from None
    absent = [
        f"{a}.{b}"
        for a, b in REQUIRED_CONFIG
        if not isinstance(config, dict) or not isinstance(config.get(a), dict) or b not in config[a]
    ]
    if absent:
        raise BundleInvalidError(f"bundle {path}: onnx/tts.json lacks the keys {', '.join(absent)}")
    empty = [f for f in REQUIRED_FILES if f.endswith(".onnx") and (path / f).stat().st_size == 0]
    if empty:
        raise BundleInvalidError(f"bundle {path} has empty graph files: {', '.join(empty)}")
    return Bundle(path=path, config=config, model=model)


def model_spec(model: str) -> ModelSpec:
    if model not in MODELS:
        raise InvalidOptionError("model", model, f"one of {', '.join(MODELS)}")
    return MODELS[model]


def cache_root() -> Path:
    """``$SUPERTONIC_CACHE_DIR`` if set, else ``~/.cache``."""
    root = os.environ.get("SUPERTONIC_CACHE_DIR")
    return Path(root).expanduser() if root else Path.home() / ".cache"


def cache_dir(model: str = "supertonic-3") -> Path:
    """Where ``model`` is cached: ``<cache root>/supertonic3`` (``supertonic2``, ``supertonic``)."""
    return cache_root() / model_spec(model).cache_folder


#: Profiles of the generated bundles (``supertonic_core.synthetic``). Named here, beside
#: their cache folder, so that a CLI can offer them without importing the generator, which
#: needs ``onnx`` (the ``synthetic`` extra) that serving a real model does not.
SYNTHETIC_PROFILES = ("tiny", "full")


def synthetic_dir(profile: str, seed: int = 0) -> Path:
    """Where a generated synthetic bundle is cached, beside the real ones."""
    return cache_root() / "supertonic-synthetic" / f"{profile}-seed{seed}"


def resolve_bundle(
    model: str = "supertonic-3",
    *,
    model_dir: str | Path | None = None,
    revision: str | None = None,
    download: bool = True,
) -> Bundle:
    """Find a usable bundle: ``model_dir``, else the cache, else download it.

    Args:
        model: ``supertonic-3`` (default), ``supertonic-2`` or ``supertonic``.
        model_dir: a directory holding a bundle; used as is, never downloaded into.
        revision: overrides the pinned Hub revision for a download.
        download: allow fetching from the Hub when the cache is empty.
    """
    model_spec(model)
    if model_dir is not None:
        return verify_bundle(model_dir, model=model)
    target = cache_dir(model)
    root = os.environ.get("SUPERTONIC_CACHE_DIR")
    if root and (Path(root).expanduser() / "onnx/tts.json").is_file():
        return verify_bundle(root, model=model)  # the variable names a bundle itself
    if target.exists():
        try:
            return verify_bundle(target, model=model)
        except BundleInvalidError as exc:
            if not download:
                raise
            logger.warning("cached bundle is unusable, downloading again: %s", exc)
    elif not download:
        raise BundleNotFoundError(
            f"no {model} bundle in the cache at {target} and downloading is disabled; "
            f"run `supertonic download --model {model}` or pass a bundle directory"
        )
    return download_bundle(model, dest=target, revision=revision)


def download_bundle(
    model: str = "supertonic-3", *, dest: str | Path | None = None, revision: str | None = None
) -> Bundle:
    """Download ``model`` from the Hub into ``dest`` atomically, with a progress bar."""
    spec = model_spec(model)
    dest = Path(dest) if dest is not None else cache_dir(model)
    revision = revision or spec.revision
    dest.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{dest.name}-download-", dir=dest.parent))
    logger.info("downloading %s@%s into %s", spec.repo_id, revision[:12], dest)
    try:
        _snapshot(spec.repo_id, revision, staging, dest)
        bundle = verify_bundle(staging, model=model)
        del bundle
        if dest.exists():
            shutil.rmtree(dest)
        os.replace(staging, dest)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return verify_bundle(dest, model=model)


def _unreachable(endpoint: str, timeout: float = 5.0) -> str | None:
    """Why the Hub at ``endpoint`` cannot be reached (its name does not resolve, or no
    connection opens within ``timeout``), or None if a connection opens.

    Why: offline, the Hub client retries with back-off for about 25 s before it gives up;
    one direct connection tells the same in milliseconds. Behind a proxy a direct
    connection proves nothing, so the check is skipped there and the client decides.
    """
    if any(os.environ.get(v) for v in ("HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy")):
        return None
    url = urlsplit(endpoint)
    port = url.port or (443 if url.scheme == "https" else 80)
    try:
        socket.create_connection((url.hostname, port), timeout=timeout).close()
    except OSError as exc:
        return f"{url.hostname}:{port}: {exc.strerror or exc}"
    return None


def _snapshot(repo_id: str, revision: str, local_dir: Path, dest: Path) -> None:
    """One call into huggingface_hub, turning its failures into an actionable error."""
    from huggingface_hub import constants, snapshot_download
    from huggingface_hub.errors import HfHubHTTPError, LocalEntryNotFoundError

    hint = (
        f"pre-download it on a machine with network access "
        f"(`hf download {repo_id} --revision {revision} --local-dir DIR`, "
        f"or `supertonic download`), then pass that DIR as the model directory "
        f"(--model-dir / SUPERTONIC_MODEL_DIR) or copy it to {dest}; or try everything "
        f"offline on a generated bundle with `--synthetic tiny` (random weights: the audio "
        f"is noise, not speech)"
    )
    if (why := _unreachable(constants.ENDPOINT)) is not None:
        raise BundleDownloadError(
            f"cannot download {repo_id}: the Hugging Face Hub is unreachable ({why}); {hint}"
        )
    if logging.getLogger().handlers:
        # huggingface_hub gives its logger a handler of its own and lets records propagate
        # too: once the application has a handler, every retry warning would print twice.
        logging.getLogger("huggingface_hub").handlers.clear()
    try:
        snapshot_download(repo_id=repo_id, revision=revision, local_dir=str(local_dir))
    except LocalEntryNotFoundError as exc:
        raise BundleDownloadError(
            f"cannot download {repo_id}: the Hugging Face Hub is unreachable ({exc}); {hint}"
        ) from exc
    except HfHubHTTPError as exc:
        raise BundleDownloadError(f"download of {repo_id} failed: {exc}; {hint}") from exc
    except OSError as exc:
        raise BundleDownloadError(f"download of {repo_id} failed: {exc}; {hint}") from exc
