"""``smoothbench plan images`` with a gap of 1e-9 searched in scipy's ``binom.ppf`` for
over ten minutes (at about 4e18 images per arm), deaf to Ctrl-C, to decide whether the
exact power could be enumerated; and from a gap of 1e-5 on it printed "49.00% vs
49.00%" (CLI audit)."""

from __future__ import annotations

import math
import re

import pytest
import scipy.stats as sps
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.cli import main
from reports import stats


def test_a_tiny_gap_is_planned_by_the_approximation_without_enumerating(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("binom.ppf called for a range far too wide to enumerate")

    monkeypatch.setattr(stats.sps.binom, "ppf", refuse)
    plan = stats.unpaired_sample_size(0.49 + 1e-9, 0.49)
    assert not plan.exact
    # Fleiss' sample size written out: pooled variance under the null, unpooled under
    # the alternative
    p1, p2 = 0.49 + 1e-9, 0.49
    pbar = (p1 + p2) / 2
    za, zb = sps.norm.isf(0.025), sps.norm.ppf(0.8)
    root = za * math.sqrt(2 * pbar * (1 - pbar)) + zb * math.sqrt(p1 * (1 - p1) + p2 * (1 - p2))
    assert plan.n == pytest.approx((root / (p1 - p2)) ** 2, rel=1e-4)


@settings(max_examples=60, deadline=None)
@given(
    n=st.integers(1, 10**6),
    p1=st.floats(0.001, 0.999),
    p2=st.floats(0.001, 0.999),
)
def test_the_estimated_cells_are_near_the_enumerated_ones(n, p1, p2):
    """The estimate decides against enumerating only where the ranges are wider than the
    limit: it never stands in for a count below it."""
    exact = stats._binomial_range(n, p1).size * stats._binomial_range(n, p2).size
    got = stats._z_cells(n, p1, p2)
    if got != exact:  # the estimate was taken: it must be far above the limit, and so
        assert got > 4 * stats._EXACT_Z_CELLS and exact > stats._EXACT_Z_CELLS


@pytest.mark.parametrize("gap", ["1e-5", "1e-6", "0.01"])
def test_the_printed_accuracies_tell_the_two_rows_apart(gap, capsys):
    assert main(["plan", "images", "--base", "0.49", "--gap", gap]) == 0
    first = capsys.readouterr().out.splitlines()[0]
    a, b = re.findall(r"([\d.]+)% vs ([\d.]+)%", first)[0]
    assert float(a) - float(b) == pytest.approx(100 * float(gap), rel=1e-6)
