"""The noise kit's mechanical checks can fail: each family below breaks one promise by
a little (a path taken for one row, for small batches, for ``out=G``, for ``out=``, for
a ``Batch`` or beyond a tile only; an error of the wrong type; a tail that steps back or
collapses only far out or on one side; pickling; no stated marginal; non-finite or
off-support samples) and is rejected by the property that owns it, called as
``check_noise`` calls it; the families they derive from pass."""

from __future__ import annotations

import pickle

import pytest
import torch

from harness.noise import Gaussian, Laplace, Pareto, UniformBall, UniformCube
from harness.noise.batch import Batch
from harness.noise.preflight import preflight_rows
from harness.noise.testing import (
    check_approximation,
    check_law,
    check_log_prob,
    check_perturb_writes_out,
    check_shape,
    check_spec,
    check_tails,
    check_transform,
)


class OneRowPath(Gaussian):
    def transform(self, G, out=None):
        z = super().transform(G, out)
        return z.mul_(1.01) if G.shape[0] == 1 else z


class SmallBatchPath(Gaussian):
    def transform(self, G, out=None):
        z = super().transform(G, out)
        return z.mul_(1.01) if 1 < G.shape[0] < 64 else z


class IgnoresOut(Gaussian):
    def transform(self, G, out=None):
        return super().transform(G)


class NotInPlaceSafe(Gaussian):
    def transform(self, G, out=None):
        self.check_G(G)
        z = torch.empty_like(G) if out is None else out
        return z.zero_().add_(G, alpha=self.sigma)  # zero_ wipes G when out is G


class InfiniteInTheTail(Gaussian):
    def transform(self, G, out=None):
        z = super().transform(G, out)
        return z.masked_fill_(G.abs() > 2.5, float("inf"))


class ReturnsFloat64(Gaussian):
    """Float64 noise for float32 draws when no buffer is given (``torch.equal`` compares
    across dtypes, so only the dtype check sees it)."""

    def transform(self, G, out=None):
        if out is None:
            return super().transform(G.to(torch.float64))
        return super().transform(G, out)


class WrongErrorType(Gaussian):
    def check_G(self, G):
        try:
            super().check_G(G)
        except (ValueError, TypeError) as err:
            raise RuntimeError(str(err)) from None


class Float32Flat(Gaussian):
    def transform(self, G, out=None):
        z = super().transform(G, out)
        return z.reshape(-1) if G.dtype == torch.float32 else z


class PerturbWrongBeyondFiveRows(Gaussian):
    def perturb(self, x, G, out):
        super().perturb(x, G, out)
        if out.shape[0] > 5:
            out[-1] = x
        return out


class PerturbWrongForABatch(Gaussian):
    def perturb(self, x, G, out):
        super().perturb(x, G, out)
        if isinstance(G, Batch):
            out[0] = x
        return out


class CollapsesBeyondSeven(Laplace):
    def coordinate_map(self, G):
        z = super().coordinate_map(G)
        return torch.where(G.abs() > 7, torch.zeros_like(z), z)


class CollapsesOnTheNegativeSide(Laplace):
    def coordinate_map(self, G):
        z = super().coordinate_map(G)
        return torch.where(G < -6, torch.zeros_like(z), z)


class StepsBackAtSix(Laplace):
    """Beyond |G| = 6 the tail steps back by 2 (to below its value at 5.5, by about 0.5)."""

    def coordinate_map(self, G):
        z = super().coordinate_map(G)
        return torch.where(G.abs() >= 6, z - 2.0 * torch.sign(z), z)


class PicklesToAnotherScale(Gaussian):
    def __reduce__(self):
        return (type(self), (2.0 * self.sigma, self.dim))


class NoMarginal(Gaussian):
    def marginals(self):
        return []


class TouchesTotalVariationOne(Gaussian):
    def approximation(self):
        return {"table a": {"tv_bound": 0.5}, "table b": {"tv_bound": 0.5}}


class StatesDistanceOne(Gaussian):
    """Overrides ``law_distance`` (a plugin may): a distance of 1 certifies nothing."""

    def law_distance(self):
        return 1.0


class NonFiniteSamples(Gaussian):
    def transform(self, G, out=None):
        z = super().transform(G, out)
        return z.masked_fill_(G[:, :1] > 3.5, float("inf"))


class ParetoLogProbWrongExponent(Pareto):
    def coordinate_log_prob(self, x):
        return -(self.a + 1.5) * torch.log1p(x.abs() / self.scale)


CASES = [
    (check_transform, OneRowPath(0.5, 5), "depends on the batch"),
    (check_transform, SmallBatchPath(0.5, 5), "not batch invariant"),
    (check_transform, IgnoresOut(0.5, 5), "out= differs or not used"),
    (check_transform, NotInPlaceSafe(0.5, 5), "in place"),
    (check_transform, InfiniteInTheTail(0.5, 5), "non-finite noise"),
    (check_transform, ReturnsFloat64(0.5, 5), "returns torch.float64"),
    (check_transform, WrongErrorType(0.5, 5), "with ValueError, but it raised RuntimeError"),
    (check_shape, Float32Flat(0.5, 5), "returned shape"),
    (check_perturb_writes_out, PerturbWrongBeyondFiveRows(0.5, 5), "out differs"),
    (check_perturb_writes_out, PerturbWrongForABatch(0.5, 5), "G given as a Batch"),
    (check_tails, CollapsesBeyondSeven(0.5, 5), "not monotone"),
    (check_tails, CollapsesOnTheNegativeSide(0.5, 5), "not monotone"),
    (check_tails, StepsBackAtSix(0.5, 5), "not monotone"),
    (check_law, NoMarginal(0.5, 5), "states no marginal"),
    (check_law, NonFiniteSamples(0.5, 5), "not finite"),
    (check_approximation, TouchesTotalVariationOne(0.5, 5), "add up to a distance"),
    (check_approximation, StatesDistanceOne(0.5, 5), "is 1.0"),
    (check_log_prob, ParetoLogProbWrongExponent(0.5, 2.0, 5), "log_prob does not match"),
]


@pytest.mark.parametrize("check,noise,phrase", CASES, ids=[type(n).__name__ for _, n, _ in CASES])
def test_each_broken_family_fails_the_property_that_owns_it(check, noise, phrase):
    with pytest.raises(AssertionError, match=phrase.replace("(", r"\(").replace("=", "=")):
        check(noise)


@pytest.mark.parametrize(
    "noise",
    [
        Gaussian(0.5, 5),
        Laplace(0.5, 5),
        Pareto(0.5, 2.0, 5),
        UniformCube(0.5, 5),
        UniformBall(0.7, 5),
    ],
    ids=lambda n: n.name,
)
def test_the_families_they_derive_from_pass(noise):
    for check in (check_transform, check_shape, check_tails, check_log_prob, check_law):
        check(noise)
    assert pickle.loads(pickle.dumps(noise)) == noise


def test_perturb_of_the_true_family_passes_beyond_a_tile():
    assert preflight_rows(5) > 5
    check_perturb_writes_out(Gaussian(0.5, 5))


class PicklesRight(Gaussian):
    pass


def test_spec_rejects_a_registered_family_that_pickles_to_another_member(plugins):
    plugins.noise("pickles_to_another_test", PicklesToAnotherScale)
    plugins.noise("pickles_right_test", PicklesRight)
    with pytest.raises(AssertionError, match="pickling changes it"):
        check_spec(PicklesToAnotherScale(0.5, 5))
    check_spec(PicklesRight(0.5, 5))
