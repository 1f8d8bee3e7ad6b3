"""Two documented choices, on tiny boards built by hand: the headline compares the best
row with its same-noise reference row before the model's Gaussian one, and the envelope
lists the noise with the largest area under its envelope first."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from reports import significance as sig
from reports.columns import Context, board_columns
from reports.envelope import envelope
from reports.headline import _pick_other
from reports.rows import Row


def _row(model, noise, certifier, family, radius, correct):
    n = len(radius)
    return Row(
        model, noise, (certifier,), family, family, np.arange(n), np.asarray(radius, float),
        np.asarray(correct), ~np.asarray(correct), np.full(n, 0.9), 0.0, 0.0,
    )  # fmt: skip


def test_the_same_noise_reference_comes_before_the_gaussian_one():
    best = _row("m", "gg", "new", "test_gg", [1.0, 1.0], [True, True])
    same = _row("m", "gg", "cohen", "test_gg", [0.5, 0.5], [True, True])
    gauss = _row("m", "g", "cohen", "gaussian", [0.4, 0.4], [True, True])
    for refs in (
        {sig.SAME_NOISE: same, sig.GAUSSIAN: gauss},
        {sig.GAUSSIAN: gauss, sig.SAME_NOISE: same},
    ):
        board = SimpleNamespace(refs={best.key: refs}, held_out=set(), reference="cohen")
        other, relation = _pick_other(board, best, [best, same, gauss])
        assert other is same and "same model and noise" in relation


def test_the_envelope_with_the_largest_area_comes_first():
    radii = [0.0, 0.5, 1.0]
    columns = board_columns(radii)
    # noise "lo" certifies 1 of 4 images up to 0.6 on its best model, "hi" 3 of 4 up to 1.2
    rows = [
        _row("m1", "lo", "cohen", "lo", [0.6, 0.1, 0.0, 0.0], [True, True, False, False]),
        _row("m2", "lo", "cohen", "lo", [0.2, 0.0, 0.0, 0.0], [True, False, False, False]),
        _row("m1", "hi", "cohen", "hi", [1.2, 1.2, 1.2, 0.0], [True, True, True, False]),
        _row("m2", "hi", "cohen", "hi", [0.3, 0.3, 0.0, 0.0], [True, True, False, False]),
    ]
    for order in (rows, rows[::-1]):
        board = SimpleNamespace(
            rows=order, held_out=set(), context=Context(0.001), columns=columns, sigma0={}
        )
        out = envelope(board)
        # areas (step sum, weights 0.5, 0.5, 0): lo 0.5*0.5 + 0.25*0.5, hi 0.75*0.5 + 0.75*0.5
        assert [e.label for e in out] == ["hi", "lo"]
        assert out[0].values[: len(radii)] == [0.75, 0.75, 0.75]
