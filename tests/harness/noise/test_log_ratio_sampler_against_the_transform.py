"""The reduced Neyman-Pearson statistic the certifiers draw (``log_ratio_sampler``) has
the law of log pi(z - delta) - log pi(z) for z drawn by the family's own transform (a
two-sample KS test), and E[exp(Lambda)] = 1 (int pi(z - delta) dz = 1) for each
family's examples: the certifier's Monte Carlo assumes the law the sampler produces."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy import stats

from harness.noise import Noise, noise_class, noise_families
from harness.noise.coordinatewise import SymmetricLaw

N = 40_000
# every example of every family that draws its own reduced statistic (the others leave
# the certifiers to log_prob on the transform's samples: Noise.log_ratio_sampler)
CASES = [
    n
    for family in noise_families()
    if noise_class(family).log_ratio_sampler is not Noise.log_ratio_sampler
    for n in noise_class(family).examples(5)
]


@pytest.mark.parametrize("noise", CASES, ids=[n.name for n in CASES])
def test_sampler_matches_transform(noise):
    c = (
        math.sqrt(noise.second_moment() / noise.dim)
        if math.isfinite(noise.second_moment())
        else noise.scale
    )
    for delta in (
        np.eye(noise.dim)[0] * 0.4 * c,
        np.full(noise.dim, 0.4 * c / math.sqrt(noise.dim)),
    ):
        lam = noise.log_ratio_sampler(N, seed=3)(delta)
        G = torch.randn(
            N, noise.dim, generator=torch.Generator().manual_seed(11), dtype=torch.float64
        )
        z = noise.transform(G)
        ref = (noise.log_prob(z - torch.from_numpy(delta)) - noise.log_prob(z)).numpy()
        fin, fin_ref = np.isfinite(lam), np.isfinite(ref)
        # the share with pi(z - delta) = 0 agrees
        assert abs(fin.mean() - fin_ref.mean()) <= 5 * math.sqrt(0.25 / N) + 1e-9
        # rounded: the bounded laws (Laplace, uniform) have atoms, computed with different rounding
        a, b = np.round(lam[fin], 9), np.round(ref[fin_ref], 9)
        assert stats.ks_2samp(a, b).pvalue > 1e-4, noise.name


def test_symmetric_law_signs_are_fair():
    law = SymmetricLaw(stats.lomax(5.0))
    x = law.rvs(size=1_000_000, random_state=0)
    assert abs((x < 0).mean() - 0.5) <= 5 * 0.5 / 1000
    assert stats.kstest(np.abs(x[:200_000]), stats.lomax(5.0).cdf).pvalue > 1e-4
