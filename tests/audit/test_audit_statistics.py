"""The audits' statistics and search pieces against closed forms, scipy.stats.binom and
hand computation: the false-certificate p-value (both bounds, one-sided), the pass
threshold, the Clopper-Pearson upper bound, the radius search, the judge's counting and
Bonferroni, the symmetry check, the margins' layout, the projections and the per-certifier
summary of attacks."""

import math

import numpy as np
import pytest
from scipy.stats import beta, binom, norm

from harness.audit.attack import smallest_success, upper_bound
from harness.audit.statistical import (
    REJECT,
    CellResult,
    StatisticalSettings,
    p_value,
    run_statistical_audit,
)
from harness.noise import Gaussian


def tail(k, n, p):
    """P(Bin(n, p) >= k), by scipy's survival function."""
    return float(binom.sf(k - 1, n, p))


def test_a_certifier_spending_more_than_the_rejection_level_can_still_fail():
    """50 false of 100 at alpha 0.2 plus spent 0.01: the binomial tail at 0.21, ~1e-10.
    A p-value that also covered a failure of the certifier's shared table (spent + the
    tail at 0.2) could not fall below 0.01, and so could never reject such a certifier."""
    assert p_value(50, 100, 0.2, 0.01) == pytest.approx(tail(50, 100, 0.21), rel=1e-9)
    assert p_value(50, 100, 0.2, 0.01) < REJECT < 0.01


def test_p_value_is_the_tail_at_alpha_plus_spent():
    assert p_value(30, 100, 0.2, 0.01) == pytest.approx(tail(30, 100, 0.21), rel=1e-9)


# the test is one-sided: few false certificates give p = 1 (two-sided would not).
def test_p_value_is_one_sided():
    assert p_value(0, 100, 0.2, 0.0) == pytest.approx(1.0)
    assert p_value(10, 100, 0.2, 0.0) == pytest.approx(tail(10, 100, 0.2), rel=1e-9)
    assert tail(10, 100, 0.2) > 0.99


# no trials, no evidence: p = 1 (a cell without trials passes).
def test_p_value_of_no_trials_is_one():
    assert p_value(0, 0, 0.2, 0.05) == 1.0


# a cell passes exactly when p >= REJECT = 1e-3.
def test_cell_passes_at_reject_threshold():
    def cell(p):
        return CellResult("c", "n", "l2", 10, 10, 0, 0.2, 0.0, p, None, None, None)

    assert REJECT == 1e-3
    assert cell(2e-3).passed and cell(1e-3).passed and not cell(9.9e-4).passed


@pytest.mark.parametrize("n,alpha", [(100, 0.001), (2000, 0.001), (50, 0.05)])
def test_clopper_pearson_upper_bound_closed_forms(n, alpha):
    # k = 0: the bound u solves (1 - u)^n = alpha
    assert upper_bound(0, n, alpha) == pytest.approx(1 - alpha ** (1 / n), rel=1e-9)
    # k = n - 1: P(Bin(n, u) <= n - 1) = 1 - u^n = alpha
    assert upper_bound(n - 1, n, alpha) == pytest.approx((1 - alpha) ** (1 / n), rel=1e-9)
    # k = n: nothing bounds it below 1
    assert upper_bound(n, n, alpha) == 1.0


@pytest.mark.parametrize("k,n,alpha", [(900, 2000, 0.001), (3, 40, 0.01), (950, 2000, 0.001)])
def test_clopper_pearson_upper_bound_inverts_the_binomial_cdf(k, n, alpha):
    u = upper_bound(k, n, alpha)
    assert u > k / n
    assert binom.cdf(k, n, u) == pytest.approx(alpha, rel=1e-6)


def test_smallest_success_by_hand():
    # doublings 1, 2, 4 -> first success at 4; bisect [2, 4]: 3 ok, 2.5 no, 2.75 no, 2.875 no
    assert smallest_success(lambda r: r >= 3.0, 1.0, 3, 4) == 3.0
    # the last doubling (start * 2^doublings) is tried
    assert smallest_success(lambda r: r >= 4.0, 1.0, 2, 0) == 4.0
    assert smallest_success(lambda r: r >= 4.5, 1.0, 2, 0) is None
    # success at the start: bisection of [0, start]
    assert smallest_success(lambda r: r >= 0.3, 1.0, 3, 2) == 0.5
    assert math.isclose(smallest_success(lambda r: r > 0.6, 1.0, 0, 3), 0.625)


def test_judge_counts_wrong_classes_and_bonferroni_adjusts_by_direction():
    import numpy as np

    from harness.audit.statistical import StatisticalSettings, Trials, judge, smoothing_certifiers
    from harness.noise import Gaussian

    per, k = 20, 8
    settings = StatisticalSettings(dims=(2,), repetitions=1, n0=50, n=200, alpha=0.2)
    directions = np.repeat([0, 1, 2], per)
    # every trial's counts say class 1 with certainty, so every trial certifies class 1
    # with a radius of sigma * Phi^-1(0.2^(1/200)) < 2; margins of +-100 put every exact
    # radius at 100 / ||w||_2 = 100, so only the class can be wrong: the first k trials
    # of the axis direction (margin -100, class 0) are false, none of the others.
    margins = np.full(3 * per, 100.0)
    margins[:k] = -100.0
    trials = Trials(
        directions,
        margins,
        np.tile([0, settings.n0], (3 * per, 1)).astype(np.int64),
        np.tile([0, settings.n], (3 * per, 1)).astype(np.int64),
    )
    cohen = smoothing_certifiers(["cohen"])["cohen"]
    noise = Gaussian(sigma=0.5, dim=2)
    cell = judge("cohen", cohen, noise, "l2", trials, settings)
    assert (cell.trials, cell.certified, cell.false, cell.spent) == (3 * per, 3 * per, k, 0.0)
    expected = min(1.0, 3 * tail(k, per, 0.2))  # Bonferroni over the three directions
    assert 0.05 < expected < 0.2
    assert cell.p_value == pytest.approx(expected, rel=1e-9)


# the symmetry check is bit for bit; an asymmetry of 1e-6 is refused.
def test_a_barely_asymmetric_sampler_is_refused():
    from harness.audit.statistical import check_symmetric
    from harness.noise import Gaussian

    class Skewed(Gaussian):
        def perturb(self, x, G, out):
            return super().perturb(x, G, out) + 1e-6

    check_symmetric(Gaussian(0.5, 3))  # the real one passes
    with pytest.raises(ValueError, match="not odd"):
        check_symmetric(Skewed(0.5, 3))


def test_margins_alternate_in_sign_and_sit_on_the_hyperplane_at_one_half():
    import numpy as np

    from harness.audit.statistical import DIRECTIONS, TARGETS, _margins, directions
    from harness.noise import Gaussian

    noise = Gaussian(sigma=0.5, dim=3)
    w = directions(3, 1)
    reps = 4
    dirs, margins = _margins(noise, w, 1, reps)
    assert len(margins) == len(DIRECTIONS) * len(TARGETS) * reps
    assert 0.5 in TARGETS  # the trials on the hyperplane test the abstention
    m = margins.reshape(len(DIRECTIONS), len(TARGETS), reps)
    for t, target in enumerate(TARGETS):
        if target == 0.5:
            assert (m[:, t] == 0.0).all()
        else:
            assert (m[:, t, 0::2] > 0).all() and (m[:, t, 1::2] < 0).all()
            np.testing.assert_array_equal(m[:, t, 0::2], -m[:, t, 1::2])


def test_projections_by_hand():
    import torch

    from harness.audit.attack import project

    inner = torch.tensor([[0.3, 0.4]], dtype=torch.float64)  # ||.||_2 = 0.5
    assert torch.equal(project(inner, 1.0, "l2"), inner)
    outer = torch.tensor([[3.0, 4.0]], dtype=torch.float64)  # ||.||_2 = 5
    assert torch.allclose(
        project(outer, 1.0, "l2"), torch.tensor([[0.6, 0.8]], dtype=torch.float64)
    )
    # l1: (1.5, 0.5) has l1 norm 2; onto radius 1.5 soft-thresholds at 0.25 -> (1.25, 0.25)
    v = torch.tensor([[1.5, -0.5]], dtype=torch.float64)
    assert torch.allclose(project(v, 1.5, "l1"), torch.tensor([[1.25, -0.25]], dtype=torch.float64))
    assert torch.equal(project(v, 2.0, "l1"), v)


# breaks are counted per certifier; radii paired only where the attack found one.
def test_summarize_certifier_by_hand():
    from harness.audit.attack import ImageAttack, mean, summarize_certifier

    attacks = [
        ImageAttack(0, 1, {"a": 0.5, "b": 0.4}, {"a": True, "b": False}, 0.7),
        ImageAttack(1, 2, {"a": 0.3}, {"a": True}, None),
        ImageAttack(2, 0, {"a": 0.2, "b": 0.1}, {"a": False, "b": True}, 0.25),
    ]
    assert summarize_certifier(attacks, "a") == (3, 2, [0.5, 0.2], [0.7, 0.25])
    assert summarize_certifier(attacks, "b") == (2, 1, [0.4, 0.1], [0.7, 0.25])
    assert summarize_certifier(attacks, "c") == (0, 0, [], [])
    assert mean([0.5, 0.2]) == pytest.approx(0.35) and mean([]) is None


def test_twice_cohens_radius_fails_though_it_declares_a_spent_confidence(double_cohen_spending):
    """Twice Cohen et al.'s radius declaring 1e-3 spent (as functional(mc_alpha=1e-3)
    does): most of its certificates off the hyperplane are false, and its cells fail.
    Independently (scipy): at true p_A = 0.9 with the quick audit's n = 200 and alpha =
    0.2, a certificate is false when the Clopper-Pearson bound p_lower has
    2 Phi^-1(p_lower) > Phi^-1(0.9), i.e. p_lower > Phi(Phi^-1(0.9) / 2) = 0.738."""
    settings = StatisticalSettings.quick()
    k = np.arange(settings.n + 1)
    p_lower = beta.ppf(settings.alpha, np.maximum(k, 1), settings.n - np.maximum(k, 1) + 1)
    false_at_09 = binom.pmf(k, settings.n, 0.9)[p_lower > norm.cdf(norm.ppf(0.9) / 2)].sum()
    assert false_at_09 > 0.99
    results = run_statistical_audit(
        settings, [double_cohen_spending], [Gaussian(0.5, dim=3)], progress=False
    )
    assert results and all(r.spent == 1e-3 for r in results)
    l2 = next(r for r in results if r.norm == "l2")  # tight in every direction
    assert l2.rate > 3 * (settings.alpha + l2.spent)
    assert not any(r.passed for r in results), [(r.norm, r.false, r.p_value) for r in results]
