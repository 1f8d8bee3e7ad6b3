"""The sampler works in float32 (the noisy input is float32): every family's float32
transform equals its float64 transform of the same base draws to a few float32 ulps (or
to what rounding the base draw itself to float32 would move it, where the map amplifies
it: heavy tails), tails included, and ``perturb`` equals ``x + transform`` the same way."""

from __future__ import annotations

import math

import pytest
import torch

from harness.draws import DrawStream
from harness.noise import noise_class, noise_families, ufuncs
from harness.noise.batch import Batch, Workspace

ULPS = 8 * 2.0**-24
EXAMPLES = [
    noise for family in noise_families() for d in (5, 64, 784)
    for noise in noise_class(family).examples(d)
]  # fmt: skip


def _draws(dim: int) -> torch.Tensor:
    G = DrawStream(7, 1, 1, dim).rows(0, 400)
    G[:8, 0] = torch.tensor([8.57, -8.57, 7.0, -6.0, 5.5, 1e-6, 0.0, -0.0])
    return G


def _scale(noise) -> float:
    moment = noise.second_moment()
    return math.sqrt(moment / noise.dim) if math.isfinite(moment) else 1.0


@pytest.mark.parametrize("numpy_ufuncs", [True, False], ids=["numpy-ufuncs", "torch-kernels"])
@pytest.mark.parametrize("noise", EXAMPLES, ids=[n.name for n in EXAMPLES])
def test_float32_transform_is_the_float64_one_rounded(monkeypatch, noise, numpy_ufuncs):
    """Both CPU paths of the coordinate-wise transforms (``harness.noise.ufuncs``), on any
    machine."""
    monkeypatch.setattr(ufuncs, "USE_NUMPY_UFUNCS", numpy_ufuncs)
    G = _draws(noise.dim)
    z32 = noise.transform(G).double()
    z64 = noise.transform(G.double())
    moved = noise.transform(G.double() * (1.0 + 2.0**-23))  # G off by two float32 ulps
    tol = ULPS * (z64.abs() + _scale(noise)) + (moved - z64).abs()
    assert torch.all((z32 - z64).abs() <= tol), float(((z32 - z64).abs() / tol).max())
    x = torch.rand(noise.dim, generator=torch.Generator().manual_seed(0))
    out = torch.empty_like(G)
    noise.perturb(x, Batch(G, Workspace()), out)
    ref = x.double() + z64
    assert torch.all((out.double() - ref).abs() <= tol + ULPS * (ref.abs() + 1.0))


def test_noises_sharing_a_batch_give_what_each_gives_alone():
    """Per-row statistics are computed once per batch and shared: sharing changes nothing."""
    dim = 64
    G = _draws(dim)
    x = torch.rand(dim)
    noises = [n for family in noise_families() for n in noise_class(family).examples(dim)]
    shared = Batch(G, Workspace())
    for noise in noises:
        together = noise.perturb(x, shared, torch.empty_like(G))
        alone = noise.perturb(x, G, torch.empty_like(G))
        assert torch.equal(together, alone), noise.name
