"""``plan draws`` says what its budget means: at the median budget an image certifies in
about half of the runs, and from the 90% budget on every budget certifies in 90% of them
at least, checked here against the Clopper-Pearson bound of every count (scipy's beta and
binomial directly). The share zig-zags with n: the budget printed before was a crossing
of 90% past which some budgets fell below (2,010 at p = 0.99, radius 0.5, sigma 0.25,
where 2,065 certify in 89.87%). An answer beyond its search limit is said to be so, not
"not above it"."""

from __future__ import annotations

import re

import numpy as np
import pytest
from scipy import stats as sps

from harness.cli import main


def _certify_probability(n: int, p: float, p_needed: float, alpha: float) -> float:
    k = np.arange(n + 1)
    with np.errstate(invalid="ignore"):
        bound = np.where(k > 0, sps.beta.ppf(alpha, np.maximum(k, 1), n - k + 1), 0.0)
    return float(sps.binom.pmf(k, n, p)[bound >= p_needed].sum())


def _budgets(capsys, sigma, radius, p):
    argv = ["plan", "draws", "--sigma", str(sigma), "--radius", str(radius), "--p", str(p)]
    assert main(argv) == 0
    out = capsys.readouterr().out
    found = re.search(r"about ([\d,]+) estimation draws certify it in half of the runs.*; "
                      r"from ([\d,]+) on, every budget certifies it in at least 90% of them",
                      out)  # fmt: skip
    assert found, out
    return tuple(int(g.replace(",", "")) for g in found.groups())


@pytest.mark.parametrize(
    ("sigma", "radius", "p", "after"),
    [(0.25, 0.5, 0.99, 400), (0.5, 0.5, 0.9, 400), (1, 3, 0.9999, 0)],
)
def test_the_budgets_certify_half_and_nine_tenths_of_the_runs(capsys, sigma, radius, p, after):
    """``after``: the budgets past the 90% one checked too (several teeth of the saw)."""
    median, sure = _budgets(capsys, sigma, radius, p)
    need = sps.norm.cdf(radius / sigma)
    assert 0.35 <= _certify_probability(median, p, need, 0.001) <= 0.65
    assert _certify_probability(sure - 1, p, need, 0.001) < 0.9
    for n in range(sure, sure + after + 1):
        assert _certify_probability(n, p, need, 0.001) >= 0.9, n
    assert sure > median


def test_an_answer_beyond_the_limit_is_said_to_be_beyond_it(capsys):
    """Radius 0.5 at sigma 1 needs p_A >= 0.691462, below 0.6915: reachable, with about
    1.4e9 draws, beyond the 1e9 searched; radius 7 needs 5e12 draws even at p = 1."""
    assert main(["plan", "draws", "--sigma", "1", "--radius", "0.5", "--p", "0.6915"]) == 0
    out = capsys.readouterr().out
    assert "not above it" not in out and "more than 1,000,000,000 estimation draws" in out
    assert main(["plan", "draws", "--sigma", "1", "--radius", "7", "--p", "1"]) == 0
    out = capsys.readouterr().out
    assert "not above it" not in out
    assert "any model needs more than 1,000,000,000 estimation draws" in out


def test_a_budget_for_a_small_probability_lies_below_the_median_one():
    """Below one half the budget is found beneath the median budget, not at it."""
    from certifiers.bounds import draws_to_certify_with, estimation_draws_needed

    need = sps.norm.cdf(2.0)
    median = estimation_draws_needed(0.99, need, 0.001)
    n = draws_to_certify_with(0.2, 0.99, need, 0.001)
    assert n < median
    assert _certify_probability(n, 0.99, need, 0.001) >= 0.2
    assert _certify_probability(n - 1, 0.99, need, 0.001) < 0.2
