"""I.i.d. symmetric Pareto noise ``~ prod (1 + |z_i|/s)^{-(a+1)}``: law, moments, parameters."""

import math

import numpy as np
import pytest
import torch
from scipy import stats

from harness.noise import Pareto
from tests.harness.noise import noise_checks as nc


@pytest.mark.parametrize("scale,a,dim", [(0.5, 3.0, 1), (0.2, 5.0, 4), (1.0, 12.0, 8)])
def test_law_and_moments(scale, a, dim):
    noise = Pareto(scale, a, dim)
    z = nc.samples(noise, 100_000 if a < 4 else nc.N_SAMPLES)
    if a > 4:  # the moment test needs a finite fourth moment
        nc.check_moments(noise, z, 2 * dim * scale**2 / ((a - 1) * (a - 2)))
    # |z|/s ~ Lomax(a), and the sign is a fair coin.
    nc.check_ks(np.abs(z[:, 0]) / scale, stats.lomax(a).cdf, noise.name)
    assert abs(np.mean(z[:, 0] > 0) - 0.5) < 5 * math.sqrt(0.25 / len(z))
    nc.check_log_prob_differences(
        noise, z[:50], lambda x: -(a + 1) * np.log1p(np.abs(x) / scale).sum(axis=1)
    )


def test_tail_is_exact_beyond_float32_saturation():
    noise = Pareto(1.0, 2.5, 1)
    nc.check_float32_tail(noise)
    g = np.array([5.5, 6.0, 8.0])
    z = noise.transform(torch.tensor(g[:, None], dtype=torch.float32)).double().numpy()[:, 0]
    # P(Z > z) = (1 + z)^{-a} / 2 = Phi(-g).
    expected = np.exp(-(np.log(2.0) + stats.norm.logsf(g)) / 2.5) - 1.0
    assert np.allclose(z, expected, rtol=1e-6)


def test_contracts_and_matching():
    noise = Pareto(0.4, 3.0, 5)
    nc.check_transform_contract(noise)
    nc.check_spec_round_trip(noise)
    m = Pareto.matched(0.25, 64, a=3.0)
    assert math.isclose(m.second_moment(), 64 * 0.25**2, rel_tol=1e-12)
    assert Pareto(1.0, 2.0, 3).second_moment() == math.inf
    with pytest.raises(ValueError):
        Pareto.matched(0.25, 64, a=2.0)


def test_rejects_bad_parameters():
    with pytest.raises(ValueError):
        Pareto(1.0, 0.0, 3)
    with pytest.raises(TypeError):
        Pareto(1.0, True, 3)


@pytest.mark.parametrize("numpy_ufuncs", [True, False], ids=["numpy-ufuncs", "torch-kernels"])
def test_the_sampler_path_matches_the_float64_inverse_cdf(monkeypatch, numpy_ufuncs):
    """``perturb`` (the fused path: numpy's log and expm1 on an AVX512 CPU, torch's
    elsewhere; both are checked here) against ``s ((2 Phi(-|g|))^{-1/a} - 1)`` in float64
    from scipy, over |g| from 1e-6 to 8.5: within 2e-6 of the value plus 1e-7 s (float32's
    log of an erfc near 1 is exact only to its absolute rounding), and within 4 float32
    ulps of torch's own expm1 of the same logarithm."""
    from harness.noise import ufuncs
    from harness.noise.batch import Batch, Workspace

    monkeypatch.setattr(ufuncs, "USE_NUMPY_UFUNCS", numpy_ufuncs)
    scale = 0.7
    noise = Pareto(scale, 4.0, 1)
    g = np.concatenate([np.geomspace(1e-6, 8.5, 4000), -np.geomspace(1e-6, 8.5, 4000)])
    G = torch.tensor(g[:, None], dtype=torch.float32)
    out = torch.empty_like(G)
    noise.perturb(torch.zeros(1), Batch(G, Workspace()), out)
    got = out.double().numpy()[:, 0]
    gf = G.double().numpy()[:, 0]
    exact = np.sign(gf) * scale * np.expm1(-(np.log(2.0) + stats.norm.logsf(np.abs(gf))) / 4.0)
    assert np.all(np.abs(got - exact) <= 2e-6 * np.abs(exact) + 1e-7 * scale)
    # the same logarithm as on the sampler path, then torch's expm1
    erfc = torch.special.erfc(G.abs() * math.sqrt(0.5))
    a = torch.from_numpy(np.log(erfc.numpy())) if numpy_ufuncs else erfc.log()
    a = a.mul_(-1.0 / 4.0).expm1_()
    torch_path = torch.copysign(a, G).mul_(scale).double().numpy()[:, 0]
    assert np.all(np.abs(got - torch_path) <= 4 * np.spacing(np.abs(torch_path).astype(np.float32)))
