"""The ``functional`` certifier passes the shared conformance kit (certifiers.testing) on
every family it supports: abstention, monotonicity, vectorization, refusals, pickling, and
Monte Carlo Neyman-Pearson soundness at small dimension (axis, diagonal and random shifts)."""

from __future__ import annotations

import pickle

import pytest

import certifiers
from certifiers.functional import Functional
from certifiers.testing import check_certifier
from harness.noise import Gaussian, GeneralizedGaussian, GeneralizedLaplace, MixedNorm

# (noise, norms): every supported pair of every family is covered; the l1 and l-inf
# radii of the generalized Gaussian are its l2 radius rescaled, so they are checked on
# two of the four generalized Gaussians only (the kit's Monte Carlo is the slow part).
SMALL = [
    (Gaussian(0.5, 4), ("l1", "l2", "linf")),
    (GeneralizedGaussian(0.5, 0.0, 2), ("l1", "l2", "linf")),
    (GeneralizedGaussian(0.4, 1.0, 3), ("l2", "linf")),
    (GeneralizedGaussian(0.6, 2.5, 5), ("l2",)),
    (GeneralizedGaussian(0.3, 6.0, 8), ("l2",)),
    (MixedNorm(0.5, 1.5, 3), ("linf",)),
    (MixedNorm(0.5, 6.0, 8), ("linf",)),
    (GeneralizedLaplace(0.5, 1.0, 2), ("l1",)),
    (GeneralizedLaplace(0.5, 5.0, 7), ("l1",)),
]


@pytest.mark.parametrize(
    "noise,norms", SMALL, ids=lambda x: x.name if hasattr(x, "name") else "-".join(x)
)
def test_conformance_small_dimensions(noise, norms):
    c = Functional(mc_samples=200_000, mc_grid=150)
    checked = check_certifier(c, [noise], norms, max_examples=20, mc_samples=30_000)
    assert {norm for _, norm in checked} == set(norms)


def test_conformance_larger_dimension_and_registry():
    """A larger noise (no Monte Carlo soundness check above dim 16) through the registered
    instance, which must also survive pickling with its settings."""
    c = certifiers.get("functional")
    assert isinstance(c, Functional)
    checked = check_certifier(c, [GeneralizedGaussian.matched(0.25, dim=64, k=16)], max_examples=25)
    assert {norm for _, norm in checked} == {"l1", "l2", "linf"}
    clone = pickle.loads(pickle.dumps(Functional(mc_samples=123_456)))
    assert clone.mc.samples == 123_456


def test_exactness_is_decided_per_noise_and_norm():
    """Only the Monte Carlo tables spend confidence; the l2 bound and the k = 0 closed
    forms are exact, so a report can recompute them."""
    c = certifiers.get("functional", mc_alpha=2e-4)
    assert c.is_exact(GeneralizedGaussian.matched(0.25, 64, k=8.0), "l2")
    assert c.is_exact(Gaussian(0.25, 64), "linf")
    assert c.is_exact(MixedNorm(0.25, 0.0, 64), "linf")
    assert not c.is_exact(MixedNorm(0.25, 4.0, 64), "linf")
    assert c.confidence_spent(GeneralizedLaplace(0.2, 4.0, 64), "l1") == 2e-4
