"""reports.sanity.matched_variance: each pair compares the rows of one (norm, alpha), and
the numbers it shows are those of the stored rows (computed here by hand)."""

from __future__ import annotations

import re

import numpy as np
import pytest
from scipy import stats as sps

from certifiers.base import Certifier
from harness.certify import certify_store
from harness.noise import Gaussian
from reports.sanity import PASS, SanityInputs, check_matched_variance
from tests.reports._report_synth import DIM, TestGG, add_counts, missing_first, new_store

N_IMAGES = 120
ALPHAS = (0.001, 0.05)
NORMS = ("l2", "linf")


class GGCohen(Certifier):
    """Cohen's formula on the stand-in generalized Gaussian (the same law)."""

    def supports(self, noise, norm):
        return isinstance(noise, Gaussian | TestGG)

    def _radius(self, noise, p, norm):
        r = noise.sigma * sps.norm.ppf(p)
        return r / np.sqrt(noise.dim) if norm == "linf" else r


@pytest.fixture
def inputs(tmp_path, plugins):
    """The Gaussian wrong on 30 images and below p = 1/2 on 20 others; two alphas, two
    norms."""
    plugins.noise("test_gg", TestGG)
    plugins.certifier("test-gg-cert", GGCohen)
    store = new_store(tmp_path / "s.sqlite", N_IMAGES, {"m": 0.25})
    labels = np.arange(N_IMAGES) % 10
    tops = np.full(N_IMAGES, 900)
    tops[30:50] = 450  # p_lower below 1/2: abstains
    add_counts(store, "m", Gaussian(0.25, DIM), labels, missing_first(labels, 30), tops)
    add_counts(store, "m", TestGG(0.25, DIM), labels, labels, np.full(N_IMAGES, 950))
    certify_store(store, ["cohen", "test-gg-cert"], list(NORMS), list(ALPHAS), progress=False)
    with store:
        return SanityInputs.from_store(store)


def _detail(res, norm, alpha):
    (line,) = [d for d in res.details if d.startswith(f"m | {norm} | alpha={alpha:g}:")]
    return line


def _numbers(line, label):
    return [float(x) for x in re.search(label, line).groups()]


@pytest.mark.parametrize("norm", NORMS)
@pytest.mark.parametrize("alpha", ALPHAS)
def test_each_pair_is_of_one_norm_and_alpha(inputs, norm, alpha):
    res = check_matched_variance(inputs, family="test_gg")
    assert res.status == PASS, res.summary
    assert len(res.details) == len(NORMS) * len(ALPHAS)
    line = _detail(res, norm, alpha)
    out = inputs.outcomes
    g = out[(out["certifier"] == "cohen") & (out["norm"] == norm) & (out["alpha"] == alpha)]
    assert len(g) == N_IMAGES
    assert f"({N_IMAGES} images)" in line.replace("same E||z||^2, ", "")
    (p_gg, p_g) = _numbers(line, r"mean p_A ([\d.]+) vs ([\d.]+)")
    assert p_g == pytest.approx(g["p_lower"].mean(), abs=6e-5)
    # ACR of the Gaussian row: radius where correct, 0 elsewhere (30 images wrong)
    acr_g = float(np.where(g["correct"], g["radius"], 0.0).mean())
    (_, shown_acr_g) = _numbers(line, r"ACR ([\d.]+) vs ([\d.]+)")
    assert shown_acr_g == pytest.approx(acr_g, abs=6e-5)
    # the radius at the Gaussian's p_A, averaged over p_A > 1/2 only
    live = g[g["p_lower"] > 0.5]
    assert len(live) == N_IMAGES - 20
    (at, ref) = _numbers(line, r"the radius is ([\d.]+) vs ([\d.]+)")
    assert ref == pytest.approx(live["radius"].mean(), abs=6e-5)
    assert at == pytest.approx(live["radius"].mean(), abs=6e-5)  # the same law


def test_the_control_is_the_gaussian_of_equal_second_moment(tmp_path, plugins):
    """Two Gaussians on the model, sigma 0.25 and 0.5; the stand-in at sigma 0.5 is
    compared with the sigma-0.5 Gaussian (its mean p_A, by hand), not the first by name."""
    plugins.noise("test_gg", TestGG)
    plugins.certifier("test-gg-cert", GGCohen)
    store = new_store(tmp_path / "s.sqlite", 40, {"m": 0.25})
    labels = np.arange(40) % 10
    add_counts(store, "m", Gaussian(0.25, DIM), labels, labels, np.full(40, 990))
    add_counts(store, "m", Gaussian(0.5, DIM), labels, labels, np.full(40, 800))
    add_counts(store, "m", TestGG(0.5, DIM), labels, labels, np.full(40, 850))
    certify_store(store, ["cohen", "test-gg-cert"], ["l2"], [0.001], progress=False)
    with store:
        inputs = SanityInputs.from_store(store)
    res = check_matched_variance(inputs, family="test_gg")
    assert res.status == PASS
    (line,) = res.details
    matched = Gaussian(0.5, DIM).name
    assert f"vs {matched} + cohen" in line
    out = inputs.outcomes
    g = out[(out["certifier"] == "cohen") & (out["noise"] == matched)]
    (_, p_g) = _numbers(line, r"mean p_A ([\d.]+) vs ([\d.]+)")
    assert p_g == pytest.approx(g["p_lower"].mean(), abs=6e-5)
