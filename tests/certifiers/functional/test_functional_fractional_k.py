"""The Monte Carlo log likelihood ratio of the ``functional`` l-inf tables at fractional
``k`` (``0 < k < 1``): on fixed draws it equals ``log pi(z - delta) - log pi(z)`` from the
noise's own density (``harness.noise``) for the vertex shift (mixed norm). At integer k
only, a branch such as ``if k < 1`` (treating small k as the Laplace case) goes unseen.
(The axis shift of the generalized Laplace is checked at fractional k in
``test_linf_l1.py``.)"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from certifiers.functional import linf as functional_linf
from harness.noise import MixedNorm


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
