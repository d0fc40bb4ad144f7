"""The cost model's predictions for batched calls."""

from __future__ import annotations

import pytest
from supertonic_core.costs import CostModel
from supertonic_core.synthesis import Stage


def test_a_batch_size_not_measured_is_priced_between_the_nearest_measured() -> None:
    """Calibration measures powers of two; a call of 3 or 6 rows is priced between them,
    and a size beyond the largest measured is not priced at all."""
    costs = CostModel()
    for rows, seconds in ((1, 0.1), (2, 0.12), (4, 0.2), (8, 0.4)):
        costs.record(Stage.DENOISE, rows, 100, seconds)
    assert costs.batch_call(Stage.DENOISE, 100, 4) == pytest.approx(0.2)
    assert costs.batch_call(Stage.DENOISE, 100, 3) == pytest.approx(0.16)
    assert costs.batch_call(Stage.DENOISE, 100, 6) == pytest.approx(0.3)
    assert costs.batch_call(Stage.DENOISE, 50, 6) == pytest.approx(0.15)  # per frame
    assert costs.batch_call(Stage.DENOISE, 100, 16) is None
    assert costs.batch_call(Stage.VOCODE, 100, 1) is None
