"""The noise conformance kit (``check_noise``) fails a broken family on the property it
breaks, and only there, with a message that names it; registration refuses a family that
does not state what a run needs."""

from __future__ import annotations

import pytest
import torch
from scipy import stats

from harness.noise import Gaussian, Laplace, Noise
from harness.noise.batch import Batch
from harness.noise.registry import NOISES
from harness.noise.testing import NOISE_PROPERTIES, check_noise, noise_checks


class GaussianLogProbOnLaplace(Laplace):
    def coordinate_log_prob(self, x: torch.Tensor) -> torch.Tensor:
        return -(x * x) / (2.0 * self.scale**2)

    def log_prob(self, z: torch.Tensor) -> torch.Tensor:
        return self.coordinate_log_prob(z).sum(-1)


class DoubledMoment(Laplace):
    def second_moment(self) -> float:
        return 2.0 * super().second_moment()


class WrongStatedLaw(Laplace):
    def coordinate_law(self):
        return stats.norm(scale=self.scale * 2**0.5)


class BatchDependent(Gaussian):
    def transform(self, G, out=None):
        z = (G - G.mean(dim=0, keepdim=True)) * self.sigma
        return z if out is None else out.copy_(z)

    def perturb(self, x, G, out):
        return out.copy_(self.transform(G.G if isinstance(G, Batch) else G)).add_(x)


class TailCollapse(Laplace):
    """A map that gives up beyond |G| = 6 (as a saturated float32 CDF would)."""

    def coordinate_map(self, G: torch.Tensor) -> torch.Tensor:
        z = super().coordinate_map(G)
        return torch.where(G.abs() > 6, torch.zeros_like(z), z)


class DropsLastCoordinate(Gaussian):
    def transform(self, G, out=None):
        return G[:, :-1] * self.sigma


class Flat(Gaussian):
    def transform(self, G, out=None):
        z = (G * self.sigma).reshape(-1)
        return z if out is None else out.view(-1).copy_(z)


class NoInputCheck(Gaussian):
    def transform(self, G, out=None):
        z = G * self.sigma
        return z if out is None else out.copy_(z)


class RaisingLogProb(Gaussian):
    def log_prob(self, z):
        raise RuntimeError("log_prob is not implemented yet")


class UnboundedTable(Gaussian):
    """States a table's error without the total variation a certificate needs."""

    def approximation(self):
        return {"radius table": {"max_log_error": 1e-12}}


def failing(noise: Noise) -> dict[str, str]:
    out = {}
    for prop, check in noise_checks(noise):
        try:
            check()
        except AssertionError as err:
            out[prop] = str(err)
    return out


@pytest.mark.parametrize(
    "noise,expected,phrase",
    [
        (GaussianLogProbOnLaplace(0.5, 5), {"log_prob", "spec"}, "log_prob does not match"),
        (DoubledMoment(0.5, 5), {"second_moment", "matched", "spec"}, "E||z||^2"),
        (WrongStatedLaw(0.5, 5), {"law", "spec"}, "does not follow the stated law"),
        (BatchDependent(0.5, 5), {"transform", "spec"}, "depends on the batch"),
        (TailCollapse(0.5, 5), {"tails", "spec"}, "not monotone"),
        (UnboundedTable(0.5, 5), {"spec", "approximation"}, "states no tv_bound"),
    ],
    ids=["log_prob", "second_moment", "law", "transform", "tails", "approximation"],
)
def test_each_broken_property_fails_on_its_own(noise, expected, phrase):
    fails = failing(noise)
    assert set(fails) == expected, fails
    target = next(
        p for p in NOISE_PROPERTIES if p in expected - {"spec", "matched"}
    )  # not set order
    assert phrase in fails[target] and noise.name in fails[target]
    with pytest.raises(AssertionError, match=rf"\[{target}\]") as err:
        check_noise(noise)
    assert f"fails {len(expected)} conformance" in str(err.value)


def test_every_builtin_example_passes_and_every_property_is_run():
    assert set(NOISE_PROPERTIES) == {p for p, _ in noise_checks(Gaussian(1.0, 3))}
    check_noise(Gaussian(0.5, 7))


def test_registration_refuses_incomplete_families():
    class NoMoment(Noise):
        scale_param = "scale"

        def __init__(self, scale: float, dim: int) -> None:
            self.scale, self.dim = scale, dim

        def transform(self, G, out=None):
            return G

        def log_prob(self, z):
            return -(z * z).sum(-1)

    with pytest.raises(TypeError, match="does not implement second_moment"):
        NOISES.add("no_moment", NoMoment)

    class NoScale(Gaussian):
        scale_param = "width"

    with pytest.raises(TypeError, match="scale parameter"):
        NOISES.add("no_scale", NoScale)
    assert "no_moment" not in NOISES and "no_scale" not in NOISES


def test_matched_refuses_a_law_without_second_moment():
    from harness.noise import Pareto

    with pytest.raises(ValueError, match="no finite second moment"):
        Pareto.matched(0.25, 64, a=2.0)
    with pytest.raises(TypeError, match="sets 'sigma' itself"):
        Gaussian.matched(0.25, 64, sigma=1.0)


@pytest.mark.parametrize(
    "noise,returned",
    [(DropsLastCoordinate(0.5, 5), "(3, 4)"), (Flat(0.5, 5), "(15,)")],
    ids=["drops-last-coordinate", "flat"],
)
def test_a_wrong_shape_is_reported_as_such_and_what_would_crash_is_not_run(noise, returned):
    with pytest.raises(AssertionError) as err:
        check_noise(noise)
    head, *lines = str(err.value).splitlines()
    assert head == f"{noise.name} fails 2 conformance properties:"  # shape, and spec (unregistered)
    assert lines[0] == (
        f"[shape] {noise.name}: transform returned shape {returned} for base draws of shape "
        "(3, 5); it must return (rows, dim) = (3, 5)"
    )
    assert lines[1].startswith("[spec]")
    assert lines[2] == (
        "not run, as transform's shape is wrong: law, log_prob, second_moment, matched, "
        "transform, perturb, tails"
    )


def test_a_transform_that_accepts_a_wrong_G_is_told_to_refuse_it():
    fails = failing(NoInputCheck(0.5, 4))
    assert set(fails) == {"transform", "spec"}, fails
    assert fails["transform"] == (
        "gaussian(dim=4,sigma=0.5): transform must refuse base draws of shape (3, 5) "
        "(expected (n, 4)) with ValueError, but it accepted them; use Noise's input check: "
        "call self.check_G(G) first in transform, as the built-in families do"
    )


def test_any_exception_is_a_failure_of_its_property_and_the_others_still_run():
    noise = RaisingLogProb(0.5, 5)
    with pytest.raises(AssertionError) as err:
        check_noise(noise)
    head, *lines = str(err.value).splitlines()
    assert head == f"{noise.name} fails 2 conformance properties:"
    assert lines[0] == f"[log_prob] {noise.name}: RuntimeError: log_prob is not implemented yet"
    assert lines[1].startswith("[spec]")


class PerturbWrongAfterFourRows(Gaussian):
    """Right on the first rows, noiseless after them: what a tile-by-tile bug looks like."""

    def perturb(self, x, G, out):
        super().perturb(x, G, out)
        out[4:] = x
        return out


def test_a_perturb_wrong_beyond_a_few_rows_fails_the_kit():
    fails = failing(PerturbWrongAfterFourRows(0.5, 5))
    assert set(fails) == {"perturb", "spec"}, fails
    assert "out differs from x + transform(G)" in fails["perturb"]
    assert "rows, G given as a Batch" in fails["perturb"]
