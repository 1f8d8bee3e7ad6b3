"""Checks shared by the per-family noise tests (tests/test_noise_<family>.py).

Each helper takes a noise instance and asserts one property against an independent
reference (scipy.stats laws, closed-form moments), never against the code under test.
"""

from __future__ import annotations

import math
import pickle

import numpy as np
import torch
from scipy import stats

from harness.noise import Noise, from_spec

N_SAMPLES = 40_000


def samples(noise: Noise, n: int = N_SAMPLES, seed: int = 0, dtype=torch.float64) -> np.ndarray:
    """``noise.transform`` of seeded base normals, as float64 numpy."""
    gen = torch.Generator().manual_seed(seed)
    G = torch.randn(n, noise.dim, generator=gen, dtype=dtype)
    return noise.transform(G).to(torch.float64).numpy()


def check_moments(noise: Noise, z: np.ndarray, expected_second_moment: float) -> None:
    """Mean zero per coordinate and ``E||z||^2`` equal to the formula, within 5 SE."""
    n = z.shape[0]
    mean = z.mean(axis=0)
    se = z.std(axis=0) / math.sqrt(n)
    assert np.all(np.abs(mean) <= 5 * se + 1e-12), f"{noise.name}: mean {mean} not zero"
    sq = (z * z).sum(axis=1)
    assert math.isclose(noise.second_moment(), expected_second_moment, rel_tol=1e-9)
    se_sq = sq.std() / math.sqrt(n)
    assert abs(sq.mean() - expected_second_moment) <= 5 * se_sq, (
        f"{noise.name}: E||z||^2 = {sq.mean():.5g} +- {se_sq:.2g}, "
        f"expected {expected_second_moment:.5g}"
    )


def check_ks(statistic: np.ndarray, cdf, label: str, min_p: float = 1e-3) -> None:
    """Kolmogorov-Smirnov test of a 1-D statistic against a reference CDF (scipy)."""
    res = stats.kstest(statistic, cdf)
    assert res.pvalue > min_p, f"{label}: KS statistic {res.statistic:.4f}, p = {res.pvalue:.2g}"


def check_transform_contract(noise: Noise) -> None:
    """Shape, dtype and device of G kept; ``out=`` (also in place) equals the plain call;
    rows are transformed independently (a row's value does not depend on the batch)."""
    gen = torch.Generator().manual_seed(3)
    for dtype in (torch.float32, torch.float64):
        G = torch.randn(257, noise.dim, generator=gen, dtype=dtype)
        z = noise.transform(G)
        assert z.shape == G.shape and z.dtype == dtype and z.device == G.device
        buf = torch.empty_like(G)
        assert noise.transform(G, out=buf) is buf and torch.equal(buf, z)
        G2 = G.clone()
        noise.transform(G2, out=G2)
        assert torch.equal(G2, z)
        assert torch.equal(noise.transform(G[100:101]), z[100:101])
    with np.testing.assert_raises(ValueError):
        noise.transform(torch.zeros(3, noise.dim + 1))
    with np.testing.assert_raises(TypeError):
        noise.transform(np.zeros((3, noise.dim)))


def check_spec_round_trip(noise: Noise) -> None:
    clone = from_spec(noise.spec())
    assert clone == noise and type(clone) is type(noise) and clone.name == noise.name
    assert pickle.loads(pickle.dumps(noise)) == noise


def check_float32_tail(noise: Noise, magnitudes=(0.0, 1.0, 5.0, 5.4, 5.5, 6.0, 7.0, 8.0, 9.0)):
    """Base draws far in the tail (float32 saturates Phi beyond 5.4) map to finite values
    that keep growing with |G|: nothing saturates or overflows."""
    t = torch.tensor(magnitudes, dtype=torch.float32)
    for sign in (1.0, -1.0):
        G = torch.zeros(len(magnitudes), noise.dim, dtype=torch.float32)
        G[:, 0] = sign * t
        if noise.dim > 1:
            G[:, 1:] = 0.3  # a typical rest of the row
        z = noise.transform(G)
        assert z.dtype == torch.float32 and torch.isfinite(z).all(), f"{noise.name}: {z}"
        lead = (sign * z[:, 0]).double().numpy()
        assert np.all(np.diff(lead) >= 0), f"{noise.name}: not monotone in G: {lead}"
        assert np.all(lead[1:] >= 0)
        assert torch.isfinite(noise.log_prob(z.double())).all()


def check_log_prob_differences(noise: Noise, z: np.ndarray, reference_logpdf) -> None:
    """``log_prob`` up to a constant: differences between rows match a reference density."""
    lp = noise.log_prob(torch.as_tensor(z)).numpy()
    ref = reference_logpdf(z)
    diff = (lp - lp[0]) - (ref - ref[0])
    assert np.allclose(diff, 0.0, atol=1e-8 * (1 + np.abs(ref - ref[0]).max())), diff
