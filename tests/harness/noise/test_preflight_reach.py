"""``check_perturb`` refuses a family whose fused ``perturb`` goes wrong only past the
first CPU tile, only on coordinates that differ, or only when given a tensor, and its
default rows always cross a CPU tile of the transforms."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from harness.noise import Gaussian
from harness.noise.batch import TILE_VALUES, Batch
from harness.noise.preflight import check_perturb, preflight_rows


class FirstTileOnly(Gaussian):
    """A fused path that writes the first CPU tile of rows and leaves the rest."""

    family = "test_first_tile_only"

    def perturb(self, x, G, out):
        batch = Batch.of(G)
        rows = next(iter(batch.row_tiles()))
        torch.add(x, batch.G[rows], alpha=self.sigma, out=out[rows])
        return out


class ReversedCoordinates(Gaussian):
    """Writes the noise of coordinate ``d - 1 - i`` to coordinate ``i``."""

    family = "test_reversed"

    def perturb(self, x, G, out):
        batch = Batch.of(G)
        return torch.add(x, batch.G.flip(1), alpha=self.sigma, out=out)


class WrongOnTensors(Gaussian):
    """Right with a ``Batch``; given a plain tensor, forgets the input."""

    family = "test_wrong_on_tensors"

    def perturb(self, x, G, out):
        if isinstance(G, Batch):
            return super().perturb(x, G, out)
        return torch.mul(G, self.sigma, out=out)


@given(st.integers(1, 5 * TILE_VALUES))
def test_the_default_rows_cross_a_cpu_tile(dim):
    rows = preflight_rows(dim)
    assert rows >= 4
    assert rows * dim > TILE_VALUES  # more values than one tile holds


@pytest.mark.parametrize("dim", [3, 64, 3072])
def test_a_perturb_right_on_the_first_tile_only_is_refused(dim):
    with pytest.raises(ValueError, match="left out unwritten"):
        check_perturb(FirstTileOnly(0.5, dim))


def test_a_perturb_that_moves_coordinates_is_refused():
    with pytest.raises(ValueError, match="out differs"):
        check_perturb(ReversedCoordinates(0.5, 16), rows=8)


def test_a_perturb_wrong_on_a_plain_tensor_is_refused_when_given_one():
    noise = WrongOnTensors(0.5, 16)
    check_perturb(noise, rows=8, as_batch=True)
    with pytest.raises(ValueError, match="out differs"):
        check_perturb(noise, rows=8, as_batch=False)


class DropsLargeNoise(Gaussian):
    """Right for small noise; writes only ``x`` where ``|z| > 2`` (a saturated tail)."""

    family = "test_drops_large_noise"

    def perturb(self, x, G, out):
        z = Batch.of(G).G * self.sigma
        return torch.add(x, torch.where(z.abs() > 2.0, torch.zeros_like(z), z), out=out)


class TransposedTransform(Gaussian):
    """A right fused ``perturb`` beside a ``transform`` that returns ``(dim, rows)``."""

    family = "test_transposed"

    def transform(self, G, out=None):
        return (G * self.sigma).T.contiguous()


def test_a_perturb_wrong_only_on_large_values_is_refused():
    with pytest.raises(ValueError, match="out differs"):
        check_perturb(DropsLargeNoise(3.0, 16), rows=64)


def test_a_transform_of_transposed_shape_is_refused_as_such():
    with pytest.raises(ValueError, match=r"transform returned \(8, 16\)"):
        check_perturb(TransposedTransform(0.5, 8), rows=16)
