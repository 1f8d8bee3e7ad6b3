"""The certifier kit rejects Gaussian radii that are too large only where its four round
p values do not look: a table interpolated linearly between round-number nodes (exact on
them), a radius 3% too large only beyond p = 0.99, and a radius that drops over a narrow
window (sound, not monotone). Each is shown wrong first by the closed form, independent
of the kit: the worst top-class probability after an l2 shift of R is
``Phi(Phi^-1(p) - R / sigma)`` (Neyman-Pearson, a half-space), and a drop by direct
evaluation."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.special import ndtr, ndtri

from certifiers.base import Certificate, Certifier
from certifiers.testing import check_certifier, check_monotone
from harness.noise import Gaussian

NODES = np.round(np.concatenate([np.arange(0.50, 0.951, 0.05), [0.99, 0.999, 0.9999]]), 5)


def _interpolated(c, noise, p):
    # the chord of the convex Phi^-1 between nodes lies above it
    return noise.sigma * np.where(p > NODES[-1], ndtri(p), np.interp(p, NODES, ndtri(NODES)))


def _above_099(c, noise, p):
    return noise.sigma * ndtri(p) * np.where(p > 0.99, 1.03, 1.0)


def _dropping(c, noise, p):
    return noise.sigma * ndtri(p) * np.where(p > 0.98, 0.97, 1.0)


def _exact(c, noise, p):
    return noise.sigma * ndtri(p)


RADII = {f.__name__: f for f in (_interpolated, _above_099, _dropping, _exact)}


class Broken(Certifier):
    """A Gaussian l2 radius from ``RADII[kind]`` (module level, so that it pickles)."""

    name = "broken-test"
    certificates = {("gaussian", "l2"): Certificate(lambda c, nz, p: RADII[c.kind](c, nz, p))}

    def __init__(self, kind: str) -> None:
        self.kind = kind


def _certifier(radius):
    return Broken(radius.__name__)


def _worst(c, noise, p):
    return ndtr(ndtri(p) - np.asarray(c.radius(noise, p, norm="l2")) / noise.sigma)


@pytest.mark.parametrize(
    ("radius", "p", "below"),
    [(_interpolated, 0.9749, 0.46), (_interpolated, 0.996, 0.43), (_above_099, 0.995, 0.47)],
)
def test_a_radius_too_large_between_the_kits_round_p_values_is_rejected(radius, p, below):
    c, noise = _certifier(radius), Gaussian(0.5, 4)
    assert _worst(c, noise, np.array([p]))[0] < below  # wrong, by the closed form
    with pytest.raises(AssertionError, match="sound"):
        check_certifier(c, [noise, Gaussian(0.25, 64)], norms=("l2",), max_examples=5)


def test_a_radius_that_drops_over_a_narrow_window_is_rejected():
    c, noise = _certifier(_dropping), Gaussian(0.5, 4)
    assert c.radius(noise, 0.9799, norm="l2") > c.radius(noise, 0.9801, norm="l2")
    with pytest.raises(AssertionError, match="not monotone"):
        check_monotone(c, noise, "l2", max_examples=5)


def test_the_exact_radius_passes_the_dense_checks():
    exact = _certifier(_exact)
    check_certifier(exact, [Gaussian(0.5, 4), Gaussian(0.25, 64)], norms=("l2",), max_examples=5)
