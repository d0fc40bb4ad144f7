"""What synthesis costs on this device, measured: seconds of each stage's calls by batch size
and length, and seconds of speech per text symbol (moving averages).

The scheduler records every call here and plans with the predictions: deadlines, the
slack a new stream's first chunk may use, how much speech a stream's next chunk may hold,
and the capacity that admission control quotes.
"""

from __future__ import annotations

import bisect

from .synthesis import Stage

_EMA = 0.2

#: One row's call costs as ``(fixed s, s per frame)`` for prepare, denoise and vocode, flat:
#: what :meth:`CostModel.rates` gives, for pricing many jobs at once.
Rates = tuple[float, float, float, float, float, float]


class _CostLine:
    """Seconds of one call as ``fixed + per_frame * frames``, fitted by least squares over
    recent calls (exponentially weighted). A denoising call on a tiny chunk still costs
    most of a short one (the weights stream through the cores whatever the length), so a
    cost per frame alone would misjudge short chunks several-fold."""

    _WEIGHT = 0.05  # each call's weight in the running means

    def __init__(self, frames: float, seconds: float) -> None:
        self.x, self.y = frames, seconds
        self.xx, self.xy = frames * frames, frames * seconds
        self._fit: tuple[float, float] | None = None

    def add(self, frames: float, seconds: float) -> None:
        w = self._WEIGHT
        self.x += w * (frames - self.x)
        self.y += w * (seconds - self.y)
        self.xx += w * (frames * frames - self.xx)
        self.xy += w * (frames * seconds - self.xy)
        self._fit = None

    def fit(self) -> tuple[float, float]:
        """(fixed seconds, seconds per frame); proportional until lengths have varied."""
        if self._fit is None:
            self._fit = self._solve()
        return self._fit

    def _solve(self) -> tuple[float, float]:
        var = self.xx - self.x * self.x
        if var > 0.01 * self.x * self.x:  # lengths spread by over ~10 %
            slope = (self.xy - self.x * self.y) / var
            fixed = self.y - slope * self.x
            if slope >= 0 and 0 <= fixed <= self.y:
                return fixed, slope
        return 0.0, self.y / max(self.x, 1e-9)

    def cost(self, frames: float) -> float:
        fixed, slope = self.fit()
        return fixed + slope * frames


class CostModel:
    """Measured cost of each stage's calls by batch size and length, and seconds of speech
    per text symbol (moving averages)."""

    def __init__(self) -> None:
        self._lines: dict[tuple[Stage, int], _CostLine] = {}
        self._rows: dict[Stage, list[int]] = {}  # row counts measured, ascending
        # until chunks are measured: about English speech; scripts differ several-fold
        self.seconds_per_id = 0.07

    def record_speech(self, symbols: int, seconds: float) -> None:
        """One chunk's predicted duration: what a chunk not prepared yet will likely hold."""
        self.seconds_per_id += _EMA * (seconds / max(1, symbols) - self.seconds_per_id)

    def record(self, stage: Stage, rows: int, frames: int, seconds: float) -> None:
        """One call of ``rows`` rows of ``frames`` frames each took ``seconds``."""
        line = self._lines.get((stage, rows))
        if line is None:
            self._lines[(stage, rows)] = _CostLine(frames, seconds)
            bisect.insort(self._rows.setdefault(stage, []), rows)
        else:
            line.add(frames, seconds)

    def rates(self) -> Rates:
        """One row's ``(fixed, per frame)`` seconds for prepare, denoise and vocode; zero
        where unmeasured. ``fixed + per_frame * frames`` is :meth:`call` exactly."""
        rates: list[float] = []
        for stage in (Stage.PREPARE, Stage.DENOISE, Stage.VOCODE):
            line = self._lines.get((stage, 1))
            rates += line.fit() if line is not None else (0.0, 0.0)
        return tuple(rates)  # type: ignore[return-value]

    def call(self, stage: Stage, frames: float, rows: int = 1) -> float | None:
        """Predicted seconds of one call of ``rows`` rows of ``frames`` frames, or None."""
        line = self._lines.get((stage, rows))
        return None if line is None else line.cost(frames)

    def batch_call(self, stage: Stage, frames: float, rows: int) -> float | None:
        """Predicted seconds of one call of ``rows`` rows padded to ``frames`` frames, or
        None where no call of that many rows or more has been measured.

        It is a single row's cost at that length times the batch factor of ``rows`` rows:
        the mean cost of their calls over a single row's at their mean length,
        interpolated between the row counts measured (calibration measures powers of
        two). Why a factor and not each size's own line: a batch size is measured far less
        often and at fewer lengths than single rows, so its own slope is noise (and a
        proportional fallback overprices long calls several-fold); its mean is not.
        """
        single = self._lines.get((stage, 1))
        if single is None:
            return None
        measured = self._rows[stage]
        above = bisect.bisect_left(measured, rows)
        if above == len(measured):
            return None
        factor = self._factor(stage, measured[above], single)
        if measured[above] != rows:
            low = measured[above - 1]
            cheap = self._factor(stage, low, single)
            factor = cheap + (factor - cheap) * (rows - low) / (measured[above] - low)
        return factor * single.cost(frames)

    def _factor(self, stage: Stage, rows: int, single: _CostLine) -> float:
        line = self._lines[(stage, rows)]
        return line.y / max(single.cost(line.x), 1e-9)

    def snapshot(self, frames: float) -> dict[str, float]:
        """Seconds per frame of one row, for chunks of ``frames`` frames."""
        return {
            f"{s.value}@{b}": line.cost(frames) / (b * frames)
            for (s, b), line in sorted(self._lines.items(), key=str)
        }
