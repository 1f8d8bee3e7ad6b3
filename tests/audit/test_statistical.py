"""The statistical audit: its exact radius, its classifier's counts, its test, and that
it passes every registered certifier and catches an unsound one."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from scipy.stats import binomtest, norm

from harness.audit.statistical import (
    DIRECTIONS,
    REJECT,
    TARGETS,
    StatisticalSettings,
    audit_noises,
    base_draws,
    check_symmetric,
    directions,
    draw_trials,
    exact_radius,
    judge,
    p_value,
    run_statistical_audit,
    smoothing_certifiers,
)
from harness.noise import Gaussian
from harness.sampler import certify_counts

NORM_ORD = {"l1": 1, "l2": 2, "linf": np.inf}

vectors = st.lists(
    st.floats(-3, 3, allow_nan=False).filter(lambda v: abs(v) > 1e-3), min_size=1, max_size=8
)


def closest_shift(w: np.ndarray, m: float, q: str) -> np.ndarray:
    """A shift onto the hyperplane ``w.(x + delta) = 0`` of the least q-norm (the
    equality case of Hoelder's inequality)."""
    if q == "l2":
        return -m * w / (w @ w)
    if q == "linf":
        return -m * np.sign(w) / np.abs(w).sum()
    i = int(np.argmax(np.abs(w)))
    out = np.zeros_like(w)
    out[i] = -m / w[i]
    return out


margins = st.floats(-5, 5).filter(lambda v: v == 0 or abs(v) > 1e-6)  # norms underflow below


@given(vectors, margins, st.sampled_from(["l1", "l2", "linf"]))
def test_exact_radius_is_reached_and_no_shorter_shift_crosses(w, m, q):
    w = np.array(w)
    r = float(exact_radius(np.array([m]), w, q)[0])
    delta = closest_shift(w, m, q)
    assert w @ delta == pytest.approx(-m, abs=1e-9)
    assert np.linalg.norm(delta, NORM_ORD[q]) == pytest.approx(r, rel=1e-9, abs=1e-12)
    # any other shift that reaches the hyperplane is at least as long (Hoelder)
    rng = np.random.default_rng(0)
    for _ in range(20):
        other = rng.standard_normal(len(w))
        other = other * (-m / (w @ other)) if abs(w @ other) > 1e-9 else delta
        assert np.linalg.norm(other, NORM_ORD[q]) >= r * (1 - 1e-9)


@pytest.mark.parametrize("noise", audit_noises([3]), ids=lambda nz: nz.name)
def test_every_family_is_centrally_symmetric_on_the_sampler_path(noise):
    check_symmetric(noise)


def test_a_noise_that_is_not_symmetric_is_refused():
    class Shifted(Gaussian):
        def perturb(self, x, G, out):
            return super().perturb(x, G, out).add_(0.01)

    with pytest.raises(ValueError, match="not odd"):
        check_symmetric(Shifted(sigma=0.5, dim=3))


def test_trials_drawn_a_few_at_a_time_count_as_drawn_at_once(monkeypatch):
    """A large dim draws its trials in pieces (``_CHUNK_VALUES``): the same streams, so
    the same counts as all the trials' base draws at once, whatever the pieces."""
    from harness.audit import statistical

    settings = StatisticalSettings(dims=(5,), repetitions=3, n0=10, n=40)
    noise = Gaussian(sigma=0.5, dim=5)
    trials = len(DIRECTIONS) * len(TARGETS) * settings.repetitions
    whole = draw_trials(noise, settings, base_draws(trials, settings, 5))
    monkeypatch.setattr(statistical, "_CHUNK_VALUES", 7 * 50 * 5)  # 7 trials a piece
    pieces = draw_trials(noise, settings)
    assert (pieces.selection == whole.selection).all()
    assert (pieces.estimation == whole.estimation).all()
    assert (pieces.margins == whole.margins).all()


def test_the_counts_follow_the_smoothed_linear_classifier():
    """Gaussian noise: the estimation counts of class 1 are Bin(n, Phi(m / sigma)) for
    a unit direction w, so their mean at the margin of target p is close to p."""
    settings = StatisticalSettings(dims=(4,), repetitions=40, n0=20, n=400)
    noise = Gaussian(sigma=0.5, dim=4)
    trials = len(DIRECTIONS) * len(TARGETS) * settings.repetitions
    drawn = draw_trials(noise, settings, base_draws(trials, settings, 4))
    p_true = norm.cdf(drawn.margins / 0.5)
    frac = drawn.estimation[:, 1] / settings.n
    for p in np.unique(np.round(p_true, 6)):
        sel = np.isclose(p_true, p, atol=1e-6)
        # the mean of 40 x 400 draws: sd <= 0.5 / sqrt(16000) = 0.004
        assert frac[sel].mean() == pytest.approx(p, abs=0.02)
    assert (drawn.selection.sum(axis=1) == settings.n0).all()
    assert (drawn.estimation.sum(axis=1) == settings.n).all()


def test_the_counts_are_the_samplers_counts():
    """The audit's counts are those of the real CERTIFY sampling of a linear torch model
    at a point with margin m (same seed, image index and streams)."""
    settings = StatisticalSettings(dims=(3,), repetitions=2, n0=30, n=120)
    noise = Gaussian(sigma=0.5, dim=3)
    trials = len(DIRECTIONS) * len(TARGETS) * settings.repetitions
    drawn = draw_trials(noise, settings, base_draws(trials, settings, 3))
    w = directions(3, settings.seed)
    for t in (0, 5, 13, 29, trials - 1):
        wt = torch.tensor(w[drawn.directions[t]], dtype=torch.float64)
        x = (drawn.margins[t] * wt / (wt @ wt)).to(torch.float32)

        class Linear(torch.nn.Module):
            def __init__(self, w: torch.Tensor) -> None:
                super().__init__()
                self.w = w

            def forward(self, inputs):
                s = inputs.double() @ self.w
                return torch.stack([torch.zeros_like(s), s], dim=1)

        counts = certify_counts(Linear(wt), x, [noise], 30, 120, seed=settings.seed, index=t)
        assert (counts.selection[0] == drawn.selection[t]).all()
        assert (counts.estimation[0] == drawn.estimation[t]).all()


def test_p_value_is_the_binomial_test_at_alpha_plus_spent():
    assert p_value(30, 100, 0.2, 0.0) == pytest.approx(binomtest(30, 100, 0.2, "greater").pvalue)
    want = binomtest(30, 100, 0.2 + 0.01, "greater").pvalue
    assert p_value(30, 100, 0.2, 0.01) == pytest.approx(want, rel=1e-12)
    assert p_value(0, 0, 0.2, 0.0) == 1.0
    assert p_value(100, 100, 0.2, 0.0) < REJECT


def test_the_quick_audit_passes_every_smoothing_certifier():
    results = run_statistical_audit(StatisticalSettings.quick(), progress=False)
    audited = {r.certifier for r in results}
    assert audited == set(smoothing_certifiers())
    failed = [(r.certifier, r.noise, r.norm, r.false, r.trials) for r in results if not r.passed]
    assert not failed
    # every cell saw certificates, and the tight ones (Cohen on the Gaussian) false ones
    assert all(r.certified > r.trials / 2 for r in results)
    cohen_l2 = next(r for r in results if r.certifier == "cohen" and r.norm == "l2")
    assert 0 < cohen_l2.false


def test_the_audit_catches_twice_cohens_radius(double_cohen):
    results = run_statistical_audit(
        StatisticalSettings.quick(), [double_cohen, "cohen"], progress=False
    )
    by = {(r.certifier, r.norm): r for r in results}
    for q in ("l1", "l2", "linf"):
        assert not by[(double_cohen, q)].passed, by[(double_cohen, q)]
        assert by[(double_cohen, q)].false > by[("cohen", q)].false
        assert by[("cohen", q)].passed


def test_the_audit_catches_a_certifier_that_ignores_its_bound(plugins):
    """A radius 10% too large on the Gaussian in l2 is caught at the full settings'
    power (n = 500, 60 repetitions), though not a factor of two."""
    from tests.audit.conftest import DoubleCohen

    class TenPercent(DoubleCohen):
        name = "cohen-1.1x"

    from certifiers.base import Certificate
    from certifiers.cohen import gaussian_l2

    TenPercent.certificates = {
        ("gaussian", "l2"): Certificate(lambda c, nz, p: 1.1 * gaussian_l2(c, nz, p))
    }
    plugins.certifier("cohen-1.1x", TenPercent)
    settings = StatisticalSettings(dims=(4,), repetitions=60)
    noise = Gaussian(sigma=0.5, dim=4)
    trials = len(DIRECTIONS) * len(TARGETS) * settings.repetitions
    drawn = draw_trials(noise, settings, base_draws(trials, settings, 4))
    bad = judge("cohen-1.1x", TenPercent(), noise, "l2", drawn, settings)
    good = judge("cohen", smoothing_certifiers(["cohen"])["cohen"], noise, "l2", drawn, settings)
    assert good.passed and not bad.passed, (good, bad)


def test_the_certifiers_audited_are_built_with_the_stores_options():
    """The audit of a store audits the certifier that certified it: built with the
    store's ``certifier_options``, not the defaults."""
    built = smoothing_certifiers(["functional", "cohen"], {"functional": {"mc_samples": 50_000}})
    assert built["functional"].options()["mc_samples"] == 50_000
    assert smoothing_certifiers(["functional"])["functional"].options()["mc_samples"] != 50_000


@pytest.mark.parametrize("norm", ["l1", "linf"])
def test_a_radius_5_percent_too_large_fails_in_l1_and_linf(plugins, norm):
    """In l1 (l-inf) only the axis (diagonal) is tight for Cohen's radius, so a count
    pooled over the three directions let 1.05 x Cohen pass every cell; tested direction
    by direction, it fails at the full settings, and Cohen passes."""
    from certifiers.base import Certificate
    from certifiers.cohen import Cohen

    class FivePercent(Cohen):
        certificates = {
            key: Certificate(lambda c, nz, p, e=entry: 1.05 * e.radius(c, nz, p), entry.applies)
            for key, entry in Cohen.certificates.items()
        }

    plugins.certifier("cohen-1.05x", FivePercent)
    settings = StatisticalSettings()
    noises = [Gaussian(sigma=0.5, dim=d) for d in settings.dims]
    results = run_statistical_audit(settings, ["cohen", "cohen-1.05x"], noises, progress=False)
    cells = [r for r in results if r.norm == norm]
    assert all(r.passed for r in cells if r.certifier == "cohen")
    assert any(not r.passed for r in cells if r.certifier == "cohen-1.05x")
