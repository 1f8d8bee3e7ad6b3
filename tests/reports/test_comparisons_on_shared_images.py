"""Two rows with different image sets are compared on the images both have, whichever
of the two is the ``row`` and which the ``other`` (the best row against a smaller one
included): the counts, n and the p-values come from those images alone."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats as sps

from reports import significance as sig
from reports.columns import Context, board_columns, compared_columns
from reports.rows import Row


def _row(model: str, images: np.ndarray, radius: np.ndarray, correct: np.ndarray) -> Row:
    n = images.size
    return Row(
        model, "gaussian(sigma=0.25)", ("cohen",), "gaussian", "gaussian", images,
        radius, correct, np.zeros(n, bool), np.full(n, 0.9), 0.0, 0.0,
    )  # fmt: skip


def test_both_directions_use_only_the_shared_images():
    rng = np.random.default_rng(2)
    big_images, small_images = np.arange(200), np.arange(50, 170)
    big = _row("big", big_images, rng.uniform(0, 1, 200), rng.random(200) < 0.8)
    small = _row("small", small_images, rng.uniform(0, 1, 120), rng.random(120) < 0.5)
    columns = compared_columns(board_columns([0.0, 0.25, 0.5]))
    ctx = Context(0.001)
    shared = np.intersect1d(big_images, small_images)
    for row, other in ((big, small), (small, big)):
        a, b = row.on(shared), other.on(shared)
        for column in columns:
            rec = sig.compare(row, other, column, ctx)
            assert rec["n"] == shared.size == 120
            if column.radius is None:  # ACR: the paired t-test on the shared images
                assert rec["p"] == pytest.approx(
                    sps.ttest_rel(a.score(), b.score()).pvalue, rel=1e-9
                )
                continue
            x, y = a.certified(column.radius), b.certified(column.radius)
            assert (rec["n10"], rec["n01"]) == (int((x & ~y).sum()), int((~x & y).sum()))
            assert (rec["k1"], rec["k2"]) == (int(x.sum()), int(y.sum()))
            assert rec["value"] == pytest.approx(x.mean())
            assert rec["other_value"] == pytest.approx(y.mean())
