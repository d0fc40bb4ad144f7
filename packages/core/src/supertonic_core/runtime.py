"""ONNX Runtime sessions for the four graphs, on the execution provider asked for.

``auto`` picks CUDA, then CoreML, then CPU. A provider that was asked for by name but is
not installed logs a warning and falls back to CPU; the provider actually used is reported
(``Runtime.providers``) so health checks never claim a device that is not in use.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import onnxruntime as ort

from .bundle import GRAPHS, Bundle
from .errors import BundleInvalidError, InvalidOptionError

logger = logging.getLogger("supertonic_core")

DEVICES = ("auto", "cpu", "cuda", "coreml")
_PROVIDER = {
    "cuda": "CUDAExecutionProvider",
    "coreml": "CoreMLExecutionProvider",
    "cpu": "CPUExecutionProvider",
}
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
        device: ``auto`` | ``cpu`` | ``cuda`` | ``coreml``.
        intra_threads: threads inside one operator; None lets ONNX Runtime use every core.
        inter_threads: threads across independent operators; None = ONNX Runtime's default.
        optimization: graph optimisation level, ``disable`` | ``basic`` | ``extended`` | ``all``.
    """

    device: str = "auto"
    intra_threads: int | None = None
    inter_threads: int | None = None
    optimization: str = "all"

    def __post_init__(self) -> None:
        if self.device not in DEVICES:
            raise InvalidOptionError("device", self.device, f"one of {', '.join(DEVICES)}")
        if self.optimization not in _OPTIMIZATION:
            raise InvalidOptionError(
                "optimization", self.optimization, f"one of {', '.join(_OPTIMIZATION)}"
            )
        for name in ("intra_threads", "inter_threads"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, int) or value < 1):
                raise InvalidOptionError(name, value, "a positive integer or None")


def choose_providers(device: str) -> list[str]:
    """The provider list for ``device``, with CPU always last as the fallback."""
    available = ort.get_available_providers()
    if device == "auto":
        chosen = [p for p in (_PROVIDER["cuda"], _PROVIDER["coreml"]) if p in available][:1]
    elif device == "cpu":
        chosen = []
    elif _PROVIDER[device] in available:
        chosen = [_PROVIDER[device]]
    else:
        logger.warning(
            "device=%s requested but %s is not available in this onnxruntime build "
            "(available: %s); falling back to CPU",
            device,
            _PROVIDER[device],
            ", ".join(available),
        )
        chosen = []
    return [*chosen, _PROVIDER["cpu"]]


class Runtime:
    """The four inference sessions of one bundle."""

    def __init__(self, bundle: Bundle, options: RuntimeOptions | None = None) -> None:
        self.options = options or RuntimeOptions()
        self.latent_channels = bundle.latent_channels
        providers = choose_providers(self.options.device)
        self.sessions: dict[str, ort.InferenceSession] = {}
        for name in GRAPHS:
            try:
                self.sessions[name] = ort.InferenceSession(
                    str(bundle.graph(name)), sess_options=self._options(name), providers=providers
                )
            except Exception as exc:  # onnxruntime raises its own untyped errors
                raise BundleInvalidError(
                    f"bundle {bundle.path}: cannot load onnx/{name}.onnx ({exc})"
                ) from None
        self.providers: list[str] = self.sessions["vector_estimator"].get_providers()
        logger.info("ONNX providers: %s", self.providers)

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
