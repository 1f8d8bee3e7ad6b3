"""The reach with a law distance and with several certifiers, and the envelope curve,
against closed forms: Cohen's radius ``sigma Phi^{-1}(p)`` at ``p = alpha^(1/n) - TV``
(scipy), the largest over the certifiers, and the best certified accuracy by hand."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.special import ndtri

from harness.noise import Gaussian
from reports.envelope import envelope_curve
from reports.reach import reach
from reports.rows import Row

DIM, N, ALPHA, SIGMA = 64, 1000, 0.001, 0.25


def test_the_reach_subtracts_the_law_distance():
    spec = Gaussian(SIGMA, DIM).spec()
    tv = 0.01
    got = reach(["cohen"], "l2", ALPHA, N, spec, law_distance=tv)
    assert got == pytest.approx(SIGMA * ndtri(ALPHA ** (1 / N) - tv), rel=1e-9)
    assert got < reach(["cohen"], "l2", ALPHA, N, spec, law_distance=0.0)


def test_the_reach_of_several_certifiers_is_the_largest():
    spec = Gaussian(SIGMA, DIM).spec()
    alone = {c: reach([c], "l2", ALPHA, N, spec) for c in ("cohen", "fdiv-kl")}
    assert all(v is not None for v in alone.values()) and len(set(alone.values())) == 2
    assert reach(list(alone), "l2", ALPHA, N, spec) == max(alone.values())
    assert alone["cohen"] == pytest.approx(SIGMA * ndtri(ALPHA ** (1 / N)), rel=1e-9)


def _row(model, radius, correct):
    n = len(radius)
    return Row(
        model, "g", ("cohen",), "gaussian", "gaussian", np.arange(n), np.asarray(radius),
        np.asarray(correct), ~np.asarray(correct), np.full(n, 0.9), 0.0, 0.0,
    )  # fmt: skip


def test_the_envelope_curve_counts_only_correct_certificates():
    a = _row("a", [0.5, 0.9, 0.0, 0.3], [True, False, False, True])
    b = _row("b", [0.2, 0.2, 0.2, 1.0], [True, True, False, False])
    grid = np.array([0.0, 0.25, 0.5, 1.0])
    # a: 2/4, 2/4, 1/4, 0;  b: 2/4, 0, 0, 0
    assert envelope_curve([a, b], grid) == pytest.approx([0.5, 0.5, 0.25, 0.0])


def test_an_envelope_row_is_beyond_reach_only_past_its_farthest_row():
    """As for a row (``Row.beyond_reach``): beyond means strictly past the reach."""
    from types import SimpleNamespace

    from reports.envelope import EnvelopeRow

    rows = [SimpleNamespace(reach=0.4), SimpleNamespace(reach=0.5)]
    e = EnvelopeRow("g", "cohen", [], [], [], rows)
    assert e.reach == 0.5
    assert not e.beyond_reach(0.5) and e.beyond_reach(0.5 + 1e-9)
    assert not e.beyond_reach(None)
