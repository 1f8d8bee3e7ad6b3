"""The mixed-norm table's sampler at ``dim = 2`` (the smallest dimension with a coordinate
besides the extreme one): for the Gaussian case (``k = 0``) the sum of the coordinates is
``N(0, 2)`` and the maximum exceeds the minimum almost surely; for ``k > 0`` the law of
the statistics matches full draws of ``MixedNorm`` (two-sample KS, as in test_linf_l1)."""

from __future__ import annotations

import numpy as np
import torch
from scipy import stats

from certifiers.functional import linf as functional_linf
from harness.noise import MixedNorm


def test_gaussian_statistics_at_dim_two():
    n = 40_000
    s = functional_linf.sample_statistics(0.0, 2, n, np.random.default_rng(8))
    assert np.all(s["max"] > s["min"])
    # sum ~ N(0, 2): its variance within 6 standard errors (sd of a sample variance: 2 sqrt(2/n))
    assert abs(np.var(s["sum"]) - 2.0) < 6 * 2.0 * np.sqrt(2.0 / n)


def test_mixed_norm_sum_law_at_dim_two():
    k, n = 0.5, 20_000
    s = functional_linf.sample_statistics(k, 2, n, np.random.default_rng(9))
    z = MixedNorm(1.0, k, 2).sample(n, torch.Generator().manual_seed(9)).numpy()
    assert stats.ks_2samp(s["sum"], z.sum(axis=1)).pvalue > 1e-4
