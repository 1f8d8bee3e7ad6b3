"""The noise kit's statistical checks can fail: a transform whose scale is off by 2%
(in float64 or in float32 alone, either way), a direction law slightly off, a log_prob of
the wrong scale (in one coordinate or the others), a second moment 4% off, a matched
member off by 0.5%, with another shape, or matched with no second moment are each
rejected by the check that owns them; the true law passes. Fixed seeds (the checks' own):
deterministic. The KS p-values of the wrong laws below are between 1e-18 and 1e-7 (the
kit rejects below 1e-4), the Monte Carlo gaps at least 3 times the kit's tolerance."""

from __future__ import annotations

import math

import pytest
import torch

from harness.noise import Gaussian, GeneralizedGaussian, Laplace, Pareto
from harness.noise.testing import (
    check_law,
    check_log_prob,
    check_matched,
    check_noise,
    check_second_moment,
    noise_checks,
)


class ScaledTransform(Gaussian):
    """Samples ``N(0, (factor sigma)^2 I)`` (in ``dtype`` only, when given) while
    stating ``N(0, sigma^2 I)``."""

    factor = 1.0
    dtype: torch.dtype | None = None

    def transform(self, G, out=None):
        z = super().transform(G, out)
        if self.dtype is None or G.dtype == self.dtype:
            z.mul_(self.factor)
        return z


def _scaled(factor, dtype=None):
    return type("Scaled", (ScaledTransform,), {"factor": factor, "dtype": dtype})(0.5, 5)


class SkewedDirection(Gaussian):
    """The right radius law, but ``z_1`` 10% too large relative to the other coordinates."""

    def transform(self, G, out=None):
        z = super().transform(G, out)
        r = torch.linalg.vector_norm(z, dim=1, keepdim=True)
        z[:, 0] *= 1.1
        return z.mul_(r / torch.linalg.vector_norm(z, dim=1, keepdim=True))


class LogProbOfAWiderGaussian(Gaussian):
    def log_prob(self, z):
        return -(z * z).sum(-1) / (2.0 * (1.1 * self.sigma) ** 2)


class LogProbWrongOnFirstCoordinate(Gaussian):
    def log_prob(self, z):
        return -(1.1 * z[..., 0] ** 2 + (z[..., 1:] ** 2).sum(-1)) / (2.0 * self.sigma**2)


class LogProbWrongOnOtherCoordinates(Gaussian):
    def log_prob(self, z):
        return -(z[..., 0] ** 2 + 1.25 * (z[..., 1:] ** 2).sum(-1)) / (2.0 * self.sigma**2)


class MatchedSlightlyOff(Gaussian):
    @classmethod
    def matched(cls, sigma0, dim, **params):
        return cls(1.005 * sigma0, dim)


class MatchedChangesShape(GeneralizedGaussian):
    @classmethod
    def matched(cls, sigma0, dim, **params):
        return super().matched(sigma0, dim, k=params["k"] + 0.5)


class MatchedWithoutMoment(Pareto):
    @classmethod
    def matched(cls, sigma0, dim, **params):
        return cls(sigma0, params["a"], dim)


@pytest.mark.parametrize("factor", [0.98, 1.02])
@pytest.mark.parametrize("dtype", [None, torch.float64, torch.float32], ids=str)
def test_law_rejects_a_scale_off_by_two_percent(factor, dtype):
    with pytest.raises(AssertionError, match="does not follow the stated law"):
        check_law(_scaled(factor, dtype))
    check_law(_scaled(1.0))


def test_law_rejects_a_wrong_direction_with_the_right_radius():
    with pytest.raises(AssertionError, match=r"direction .* does not follow"):
        check_law(SkewedDirection(0.5, 5))


@pytest.mark.parametrize(
    "cls", [LogProbOfAWiderGaussian, LogProbWrongOnFirstCoordinate, LogProbWrongOnOtherCoordinates]
)
def test_log_prob_rejects_a_density_of_another_scale(cls):
    with pytest.raises(AssertionError, match="log_prob does not match"):
        check_log_prob(cls(0.5, 5))
    check_log_prob(Gaussian(0.5, 5))


@pytest.mark.parametrize("factor", [0.98, 1.02])
def test_second_moment_rejects_samples_two_percent_off_in_scale(factor):
    with pytest.raises(AssertionError, match="E||z||^2"):
        check_second_moment(_scaled(factor))
    check_second_moment(_scaled(1.0))


@pytest.mark.parametrize(
    "noise,phrase",
    [
        (MatchedSlightlyOff(0.5, 5), "not dim \\* sigma0\\^2"),
        (MatchedChangesShape(0.5, 1.0, 5), "changed the family or its shape"),
        (MatchedWithoutMoment(0.5, 2.0, 5), "matched accepted a law with no second moment"),
    ],
    ids=["moment-off", "shape-changed", "no-moment"],
)
def test_matched_rejects_a_wrong_member(noise, phrase):
    with pytest.raises(AssertionError, match=phrase):
        check_matched(noise)


def test_matched_accepts_the_true_members():
    check_matched(Gaussian(0.5, 5))
    check_matched(GeneralizedGaussian(0.5, 1.0, 5))
    check_matched(Pareto(0.5, 2.0, 5))  # refused with a ValueError, as it must be


class WrongLaw(Laplace):
    """Laplace samples, the law stated as a Gaussian of the same variance."""

    def coordinate_law(self):
        from scipy import stats

        return stats.norm(scale=self.scale * math.sqrt(2.0))


def test_a_registered_family_failing_one_property_alone_fails_check_noise(plugins):
    plugins.noise("wrong_law_test", WrongLaw)
    noise = WrongLaw(0.5, 5)
    failed = set()
    for prop, check in noise_checks(noise):
        try:
            check()
        except AssertionError:
            failed.add(prop)
    assert failed == {"law"}
    with pytest.raises(AssertionError, match=r"fails 1 conformance property:\n\[law\]"):
        check_noise(noise)


class NarrowLaplace(Laplace):
    """Laplace coordinates drawn at ``factor`` times the stated scale, with the second
    moment of the draws (so that only the law can tell)."""

    factor = 0.97

    def coordinate_map(self, G):
        return super().coordinate_map(G) * self.factor

    def second_moment(self):
        return super().second_moment() * self.factor**2


@pytest.mark.parametrize("dim", [64, 3072])
def test_law_pools_iid_coordinates_against_a_scale_three_percent_off(dim):
    """One coordinate of 20,000 rows cannot tell a scale 3% off (the KS gap, about 0.01,
    is under its critical value at p = 1e-4, 0.014); the pooled coordinates can."""
    from scipy import stats

    narrow = NarrowLaplace(0.5, dim)
    z = torch.randn(20_000, dim, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    first = narrow.transform(z)[:, 0].numpy()
    assert stats.kstest(first, narrow.coordinate_law().cdf).pvalue > 1e-4  # z_1 alone passes
    with pytest.raises(AssertionError, match="coordinates pooled does not follow"):
        check_law(narrow)
    check_law(Laplace(0.5, dim))
