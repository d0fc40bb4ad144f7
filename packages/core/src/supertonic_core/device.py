"""The device path: a denoising batch's state kept on the device between steps.

Why: on a GPU the host path pads numpy arrays, uploads the latent, the text embedding and
the style at every denoising step and copies the result back, for a graph call that
itself takes a few milliseconds. With ONNX Runtime's IO binding a batch's inputs are
uploaded once, when the batch forms; each step then writes its latent into a second
buffer on the device and the two buffers swap, and only the step number (one float a row)
is written per step. The vocoder reads the last latent where it lies and writes its audio
to the host: one copy.

The scheduler may form a new batch at any step (a row joins or leaves); a row's state
then comes back to the host once (:meth:`BoundBatch.release`) and the new batch uploads
it. With buckets on (:mod:`.shapes`) buffers are kept per shape and reused by the next
batch of that shape, so their addresses stay fixed, which a recorded CUDA graph needs
(``RuntimeOptions.cuda_graph``: each buffer pair's two directions get a graph id). On the
CPU provider, "the device" is host memory and the numbers are the host path's, bit for
bit.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import onnxruntime as ort


class Held(Protocol):
    """What the device path needs of a row (:class:`.synthesis.Row`)."""

    frames: int
    latent: np.ndarray | None
    bound: BoundBatch | None


@dataclass(eq=False)
class _Buffers:
    """One shape's inputs and its two latent buffers on the device, with the two bindings
    (step from buffer 0 into 1, and back); ``owner`` is the batch using them now."""

    inputs: dict[str, ort.OrtValue]
    latents: tuple[ort.OrtValue, ort.OrtValue]
    bindings: tuple[ort.IOBinding, ort.IOBinding]
    run_options: tuple[ort.RunOptions | None, ort.RunOptions | None]
    owner: BoundBatch | None = None


class DevicePath:
    """One runtime's device path: its vector estimator and vocoder sessions, where their
    OrtValues live, and (when shapes are bucketed, so few) the buffers kept per shape.

    Args:
        sessions: the runtime's sessions by graph name.
        device: ONNX Runtime's name of the device and its id, ``("cuda", 0)`` or ``("cpu", 0)``.
        pooled: keep buffers per shape for the next batch of that shape.
        cuda_graph: give each pooled buffer pair's two directions a CUDA graph id.
    """

    def __init__(
        self,
        sessions: Mapping[str, ort.InferenceSession],
        device: tuple[str, int],
        *,
        pooled: bool,
        cuda_graph: bool,
    ) -> None:
        self.estimator = sessions["vector_estimator"]
        self.vocoder = sessions["vocoder"]
        self.device = device
        self.pooled = pooled
        self.cuda_graph = cuda_graph and pooled
        self.by_shape: dict[tuple[tuple[int, ...], ...], _Buffers] = {}
        self._graph_ids = itertools.count(1)

    def buffers(self, feeds: dict[str, np.ndarray]) -> _Buffers:
        """Device buffers holding ``feeds``: the pooled ones of their shapes (whose current
        owner gives its rows back first), else new ones, freed with their batch."""
        key = tuple(feeds[name].shape for name in sorted(feeds))
        if (kept := self.by_shape.get(key)) is not None:
            if kept.owner is not None:
                kept.owner.release()
            for name, array in feeds.items():
                target = kept.latents[0] if name == "noisy_latent" else kept.inputs[name]
                target.update_inplace(np.ascontiguousarray(array))
            return kept
        device, device_id = self.device
        inputs = {
            name: ort.OrtValue.ortvalue_from_numpy(np.ascontiguousarray(a), device, device_id)
            for name, a in feeds.items()
            if name != "noisy_latent"
        }
        shape = feeds["noisy_latent"].shape
        latents = (
            ort.OrtValue.ortvalue_from_numpy(feeds["noisy_latent"], device, device_id),
            ort.OrtValue.ortvalue_from_shape_and_type(shape, np.float32, device, device_id),
        )
        out = self.estimator.get_outputs()[0].name
        bindings = (self.estimator.io_binding(), self.estimator.io_binding())
        run_options: list[ort.RunOptions | None] = []
        for parity, binding in enumerate(bindings):
            for name, value in inputs.items():
                binding.bind_ortvalue_input(name, value)
            binding.bind_ortvalue_input("noisy_latent", latents[parity])
            binding.bind_ortvalue_output(out, latents[1 - parity])
            options = None
            if self.cuda_graph:
                options = ort.RunOptions()
                options.add_run_config_entry("gpu_graph_id", str(next(self._graph_ids)))
            run_options.append(options)
        buffers = _Buffers(inputs, latents, bindings, (run_options[0], run_options[1]))
        if self.pooled:
            self.by_shape[key] = buffers
        return buffers

    def vocode(self, batch: BoundBatch) -> np.ndarray:
        """The vocoder on the batch's current latent where it lies; the audio of every
        padded row comes to the host (the one copy)."""
        binding = self.vocoder.io_binding()
        binding.bind_ortvalue_input(self.vocoder.get_inputs()[0].name, batch.latent)
        binding.bind_output(self.vocoder.get_outputs()[0].name, "cpu")
        self.vocoder.run_with_iobinding(binding)
        return binding.copy_outputs_to_cpu()[0]


class BoundBatch:
    """The rows of one denoising batch, their latents on the device.

    Args:
        path: the runtime's device path.
        rows: the batch's real rows, in the order of ``feeds``' first axis.
        feeds: the vector estimator's inputs for the first step (padded, bucketed); any
            rows past ``rows`` are padding.
    """

    def __init__(
        self, path: DevicePath, rows: Sequence[Held], feeds: dict[str, np.ndarray]
    ) -> None:
        self.path = path
        self.rows = tuple(rows)
        self._buffers = path.buffers(feeds)
        self._buffers.owner = self
        self._parity = 0  # which latent buffer holds the current latent
        self._stepped = False
        for row in rows:
            row.bound = self

    def step(self, current_step: np.ndarray) -> None:
        """One denoising step of every row; ``current_step`` has one value per padded row."""
        b = self._buffers
        b.inputs["current_step"].update_inplace(current_step)
        self.path.estimator.run_with_iobinding(
            b.bindings[self._parity], b.run_options[self._parity]
        )
        self._parity ^= 1
        self._stepped = True

    @property
    def latent(self) -> ort.OrtValue:
        """The current latent of every (padded) row, on the device."""
        return self._buffers.latents[self._parity]

    def release(self, *, keep: bool = True) -> None:
        """Unbind the rows, bringing their latents back to the host (``row.latent``) unless
        ``keep`` is false (rows that are done)."""
        if keep and self._stepped:
            latent = self._buffers.bindings[self._parity ^ 1].copy_outputs_to_cpu()[0]
            for i, row in enumerate(self.rows):
                row.latent = latent[i, :, : row.frames].copy()
        for row in self.rows:
            if row.bound is self:
                row.bound = None
        if self._buffers.owner is self:
            self._buffers.owner = None
