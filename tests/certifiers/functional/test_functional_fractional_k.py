"""The Monte Carlo log likelihood ratios of the ``functional`` tables at fractional ``k``
(``0 < k < 1``): on fixed draws they equal ``log pi(z - delta) - log pi(z)`` from the
noise's own density (``harness.noise``), for the axis shift (generalized Laplace, l1) and
the vertex shift (mixed norm, l-inf). The shipped tests use integer-valued k only, where a
branch such as ``if k < 1`` (treating small k as the Gaussian / Laplace case) goes unseen."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from certifiers.functional import l1 as functional_l1
from certifiers.functional import linf as functional_linf
from harness.noise import GeneralizedLaplace, MixedNorm


@pytest.mark.parametrize(("k", "dim"), [(0.25, 3), (0.5, 6)])
def test_axis_log_ratio_at_fractional_k(k, dim):
    noise = GeneralizedLaplace(1.0, k, dim)
    z = noise.sample(500, torch.Generator().manual_seed(5)).to(torch.float64)
    s = {"z1": z[:, 0].numpy().copy(), "norm": z.abs().sum(dim=1).numpy()}
    for eps in (0.01, 0.5, 3.0):
        shift = torch.zeros(dim, dtype=torch.float64)
        shift[0] = eps
        got = functional_l1.axis_log_ratio(k)(eps, s)
        want = (noise.log_prob(z - shift) - noise.log_prob(z)).numpy()
        np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize(("k", "dim"), [(0.25, 3), (0.5, 6)])
def test_vertex_log_ratio_at_fractional_k(k, dim):
    noise = MixedNorm(1.0, k, dim)
    z = noise.sample(500, torch.Generator().manual_seed(6)).to(torch.float64)
    zn = z.numpy()
    s = {
        "max": zn.max(axis=1),
        "min": zn.min(axis=1),
        "sum": zn.sum(axis=1),
        "log_norm": np.log(np.abs(zn).max(axis=1)),
    }
    for eps in (0.01, 0.3, 1.5):
        shift = torch.full((dim,), eps, dtype=torch.float64)
        got = functional_linf.vertex_log_ratio(k, dim)(eps, s)
        want = (noise.log_prob(z - shift) - noise.log_prob(z)).numpy()
        np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-9)
