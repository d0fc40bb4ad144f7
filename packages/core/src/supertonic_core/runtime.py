"""ONNX Runtime sessions for the four graphs, on the execution provider asked for.

``auto`` picks CUDA, then CoreML, then CPU. A provider that was asked for by name but is
not installed logs a warning and falls back to CPU; the provider actually used is reported
(``Runtime.providers``) so health checks never claim a device that is not in use.

On an NVIDIA GPU the CUDA provider gets its options from :class:`RuntimeOptions`: which
GPU, how cuDNN picks a convolution algorithm for a new shape (``heuristic`` by default:
ONNX Runtime's own default, ``exhaustive``, benchmarks every algorithm at each new shape,
which shows up as first-audio spikes while shapes are new), and a cap on the memory its
arena may take. ``tensorrt`` (opt-in) puts TensorRT in front of CUDA, with its compiled
engines cached in a folder (by default beside the model cache, so a restart reuses them).

The device path (see :mod:`.device`): on CUDA and TensorRT the denoising state stays on
the GPU between steps (IO binding) and shapes are rounded up to buckets (:mod:`.shapes`),
both by default; on the CPU both are opt-in. CUDA graphs (opt-in) replay each bucket's
recorded kernels instead of launching them one by one, and need both.
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass, replace
from typing import Literal

import numpy as np
import onnxruntime as ort

from .bundle import GRAPHS, Bundle, cache_root
from .device import DevicePath
from .errors import BundleInvalidError, InvalidOptionError
from .shapes import EXACT, Buckets

logger = logging.getLogger("supertonic_core")

DEVICES = ("auto", "cpu", "cuda", "tensorrt", "coreml")
CONV_SEARCH = ("heuristic", "exhaustive", "default")
_PROVIDER = {
    "tensorrt": "TensorrtExecutionProvider",
    "cuda": "CUDAExecutionProvider",
    "coreml": "CoreMLExecutionProvider",
    "cpu": "CPUExecutionProvider",
}
#: The providers that run on an NVIDIA GPU (device buffers, CUDA graphs, a worker per GPU).
GPU_PROVIDERS = (_PROVIDER["cuda"], _PROVIDER["tensorrt"])
Provider = str | tuple[str, dict[str, str]]
#: The one graph whose operator threads keep spinning between calls (see Runtime._options).
SPINNING_GRAPH = "vector_estimator"
_OPTIMIZATION = {
    "disable": ort.GraphOptimizationLevel.ORT_DISABLE_ALL,
    "basic": ort.GraphOptimizationLevel.ORT_ENABLE_BASIC,
    "extended": ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED,
    "all": ort.GraphOptimizationLevel.ORT_ENABLE_ALL,
}


@dataclass(frozen=True)
class RuntimeOptions:
    """How to run the graphs.

    Args:
        device: ``auto`` | ``cpu`` | ``cuda`` | ``tensorrt`` | ``coreml``.
        intra_threads: threads inside one operator; None lets ONNX Runtime use every core.
        inter_threads: threads across independent operators; None = ONNX Runtime's default.
        optimization: graph optimisation level, ``disable`` | ``basic`` | ``extended`` | ``all``.
        device_id: which GPU (CUDA, TensorRT).
        conv_search: how cuDNN chooses convolution algorithms, ``heuristic`` |
            ``exhaustive`` | ``default`` (see the module docstring).
        gpu_mem_limit_mb: most memory the CUDA arena may take; None: no limit.
        tensorrt_cache: folder of TensorRT's compiled engines; None: beside the model cache.
        workers: runtimes the scheduler feeds at once, each with its own sessions
            (:mod:`.workers`): a number, or ``auto``: one per visible GPU on a GPU device,
            and on a CPU the split of the cores that calibration measures fastest (one
            worker up to 7 cores).
        io_binding: keep the denoising state on the device between steps; None: on for
            CUDA and TensorRT, off on the CPU (where it gains nothing measurable).
        buckets: round shapes up to :mod:`.shapes`' buckets; None: on for CUDA and
            TensorRT, off on the CPU (where padded work costs in proportion).
        cuda_graph: replay recorded CUDA graphs of the vector estimator per bucket (ONNX
            Runtime's ``enable_cuda_graph``); CUDA or TensorRT only, with IO binding and
            buckets.
    """

    device: str = "auto"
    intra_threads: int | None = None
    inter_threads: int | None = None
    optimization: str = "all"
    device_id: int = 0
    conv_search: str = "heuristic"
    gpu_mem_limit_mb: int | None = None
    tensorrt_cache: str | None = None
    workers: int | Literal["auto"] = "auto"
    io_binding: bool | None = None
    buckets: bool | None = None
    cuda_graph: bool = False

    def __post_init__(self) -> None:
        if self.device not in DEVICES:
            raise InvalidOptionError("device", self.device, f"one of {', '.join(DEVICES)}")
        if self.optimization not in _OPTIMIZATION:
            raise InvalidOptionError(
                "optimization", self.optimization, f"one of {', '.join(_OPTIMIZATION)}"
            )
        if self.conv_search not in CONV_SEARCH:
            raise InvalidOptionError(
                "conv_search", self.conv_search, f"one of {', '.join(CONV_SEARCH)}"
            )
        for name in ("intra_threads", "inter_threads", "gpu_mem_limit_mb"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, int) or value < 1):
                raise InvalidOptionError(name, value, "a positive integer or None")
        if self.workers != "auto" and (not isinstance(self.workers, int) or self.workers < 1):
            raise InvalidOptionError("workers", self.workers, "auto or a positive integer")
        if not isinstance(self.device_id, int) or self.device_id < 0:
            raise InvalidOptionError("device_id", self.device_id, "a non-negative integer")
        if self.cuda_graph and self.device in ("cpu", "coreml"):
            raise InvalidOptionError(
                "cuda_graph",
                True,
                "",
                message=f"cuda_graph needs an NVIDIA GPU (device cuda, tensorrt or auto), "
                f"not device={self.device}",
            )
        if self.cuda_graph and (self.io_binding is False or self.buckets is False):
            raise InvalidOptionError(
                "cuda_graph",
                True,
                "",
                message="cuda_graph needs io_binding and buckets (a recorded graph replays "
                "fixed shapes at fixed addresses); leave them on or unset",
            )

    def provider_options(self, provider: str) -> dict[str, str]:
        """ONNX Runtime's options for ``provider`` (strings, as it takes them)."""
        if provider == _PROVIDER["cuda"]:
            options = {
                "device_id": str(self.device_id),
                "cudnn_conv_algo_search": self.conv_search.upper(),
                # a stream's shapes vary chunk by chunk: no arena growth by powers of two
                "arena_extend_strategy": "kSameAsRequested",
            }
            if self.gpu_mem_limit_mb is not None:
                options["gpu_mem_limit"] = str(self.gpu_mem_limit_mb * 1024 * 1024)
            if self.cuda_graph:
                options["enable_cuda_graph"] = "1"
            return options
        if provider == _PROVIDER["tensorrt"]:
            cache = self.tensorrt_cache or str(cache_root() / "supertonic-tensorrt")
            return {
                "device_id": str(self.device_id),
                "trt_engine_cache_enable": "True",
                "trt_engine_cache_path": cache,
                "trt_fp16_enable": "True",
                **({"trt_cuda_graph_enable": "True"} if self.cuda_graph else {}),
            }
        return {}


def choose_providers(device: str, options: RuntimeOptions | None = None) -> list[Provider]:
    """The providers for ``device`` with their options, CPU always last as the fallback
    (TensorRT also falls back to CUDA for what it cannot compile)."""
    options = options or RuntimeOptions(device=device)
    available = ort.get_available_providers()
    if device == "auto":
        wanted = [p for p in (_PROVIDER["cuda"], _PROVIDER["coreml"]) if p in available][:1]
    elif device == "cpu":
        wanted = []
    elif _PROVIDER[device] in available:
        wanted = [_PROVIDER[device]]
        if device == "tensorrt" and _PROVIDER["cuda"] in available:
            wanted.append(_PROVIDER["cuda"])
    else:
        logger.warning(
            "device=%s requested but %s is not available in this onnxruntime build "
            "(available: %s); falling back to CPU",
            device,
            _PROVIDER[device],
            ", ".join(available),
        )
        wanted = []
    chosen: list[Provider] = [
        (p, opts) if (opts := options.provider_options(p)) else p for p in wanted
    ]
    return [*chosen, _PROVIDER["cpu"]]


class Runtime:
    """The four inference sessions of one bundle."""

    def __init__(self, bundle: Bundle, options: RuntimeOptions | None = None) -> None:
        self.options = options or RuntimeOptions()
        self.latent_channels = bundle.latent_channels
        providers = choose_providers(self.options.device, self.options)
        first = providers[0] if isinstance(providers[0], str) else providers[0][0]
        if self.options.cuda_graph and first not in GPU_PROVIDERS:
            raise InvalidOptionError(
                "cuda_graph",
                True,
                "",
                message=f"cuda_graph needs the CUDA or TensorRT provider, and this runtime "
                f"would run on {first}; drop cuda_graph or run on an NVIDIA GPU",
            )
        # Only the vector estimator runs from fixed device buffers (see .device); a graph
        # captured around the others' host inputs would replay stale addresses.
        plain = choose_providers(self.options.device, replace(self.options, cuda_graph=False))
        self.sessions: dict[str, ort.InferenceSession] = {}
        for name in GRAPHS:
            try:
                self.sessions[name] = ort.InferenceSession(
                    str(bundle.graph(name)),
                    sess_options=self._options(name),
                    providers=providers if name == "vector_estimator" else plain,
                )
            except Exception as exc:  # onnxruntime raises its own untyped errors
                raise BundleInvalidError(
                    f"bundle {bundle.path}: cannot load onnx/{name}.onnx ({exc})"
                ) from None
        self.providers: list[str] = self.sessions["vector_estimator"].get_providers()
        logger.info("ONNX providers: %s", self.providers)
        gpu = self.on_gpu = self.providers[0] in GPU_PROVIDERS
        #: where OrtValues of the device path live, as ONNX Runtime names the device
        self.ort_device = ("cuda", self.options.device_id) if gpu else ("cpu", 0)
        self.io_binding = gpu if self.options.io_binding is None else self.options.io_binding
        on = gpu if self.options.buckets is None else self.options.buckets
        self.buckets: Buckets = Buckets() if on else EXACT
        self.device_path = DevicePath(
            self.sessions, self.ort_device, pooled=on, cuda_graph=self.options.cuda_graph
        )

    def _options(self, graph: str) -> ort.SessionOptions:
        """Session options for one graph.

        Each session has its own pool of operator threads, and by default a pool's threads
        spin for a while after every call, waiting for the next. Only the vector estimator
        is called several times in a row (once per denoising step); the others run once per
        chunk, and their spinning threads fought the next graph's threads for the cores: on
        2 cores the first denoising step after the text encoder took 2 to 3 times as long,
        and a first chunk about 40 % longer (``benchmarks/ort_options.py``). So only the
        vector estimator's threads spin.
        """
        so = ort.SessionOptions()
        so.graph_optimization_level = _OPTIMIZATION[self.options.optimization]
        if self.options.intra_threads:
            so.intra_op_num_threads = self.options.intra_threads
        if self.options.inter_threads:
            so.inter_op_num_threads = self.options.inter_threads
        spin = "1" if graph == SPINNING_GRAPH else "0"
        so.add_session_config_entry("session.intra_op.allow_spinning", spin)
        so.log_severity_level = 3
        return so

    def run(self, graph: str, feeds: dict[str, object]) -> object:
        """Run one graph and return its single output."""
        return self.sessions[graph].run(None, feeds)[0]

    @functools.cached_property
    def vocoder_context(self) -> int | None:
        """Latent frames at a row's end whose audio depends on what follows the row; None if
        the vocoder is not length-local (a change past the end reaches the first frame).

        Why: the vocoder has no mask, so a row padded to a longer one's length (a batch of
        rows of different lengths, or a bucket) gets different audio near its end: the
        convolutions see the padding where they saw their own zero border. Audio further
        than this from the end is untouched, so only the last frames need a second, exact
        pass (see :func:`.synthesis.vocode`). Measured on first need, on the graph itself
        (reading its nodes would need the ``onnx`` package, and would trust a list of
        operators to be length-local).
        """
        return _measure_context(self)


_PROBE_FRAMES = 48  # longer than any vocoder's reach: the full layout's is 10 frames


def _measure_context(rt: Runtime) -> int | None:
    """Two latents of one shape, the same first half and different random second halves:
    the audio frames of the first half that differ at all are the reach. One shape runs
    the same kernels, so everything beyond the reach is bit-identical (two shapes would
    differ by rounding everywhere, and hide the reach's faint edge)."""
    rng = np.random.default_rng(0)
    shape = (2, rt.latent_channels, 2 * _PROBE_FRAMES)
    latent = rng.standard_normal(shape, dtype=np.float32)
    latent[1, :, :_PROBE_FRAMES] = latent[0, :, :_PROBE_FRAMES]
    audio = np.asarray(rt.run("vocoder", {"latent": latent}))
    per_frame = audio.shape[1] // (2 * _PROBE_FRAMES)
    first = np.abs(audio[0] - audio[1])[: _PROBE_FRAMES * per_frame]
    # 1e-7: below any error that matters, above another device's run-to-run rounding
    changed = first.reshape(_PROBE_FRAMES, per_frame).max(axis=1) > 1e-7
    if changed[0]:
        return None
    return int(_PROBE_FRAMES - np.argmax(changed)) if changed.any() else 0
