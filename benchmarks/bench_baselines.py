"""Radii per second of the issue-#4 certifiers on a realistic vector of 200 lower bounds.

    python -m pytest benchmarks/bench_baselines.py --benchmark-only

The p vector holds one-sided Clopper-Pearson lower bounds (alpha = 0.001, n = 100,000) of
seeded top-class counts, as the runner produces them (about 15% of them abstain). Noises
are at the digits benchmark's dimension (64) and matched to a Gaussian sigma0 = 0.25.
Tables (level-set and differential methods) are built before timing: they are cached on
disk and built once per noise. Each row records ``radii_per_second`` (from the median
time, on one thread) in ``extra_info`` and in the summary.
"""

from __future__ import annotations

import numpy as np
import pytest

import certifiers
from benchmarks.conftest import SUMMARY
from certifiers.bounds import clopper_pearson_lower
from harness.noise import Exp2, ExpInf, Gaussian, Laplace, Pareto, PowInf, UniformBall, UniformCube

DIM, SIGMA0, N, ALPHA = 64, 0.25, 100_000, 0.001


def realistic_p(size: int = 200, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    true_p = np.clip(rng.beta(5.0, 1.0, size), 0.0, 1.0)  # mostly confident, some not
    counts = rng.binomial(N, true_p)
    return np.asarray(clopper_pearson_lower(counts, N, ALPHA), dtype=np.float64)


CASES = [
    ("cohen", Gaussian(SIGMA0, DIM), "l2"),
    ("wulff", Gaussian(SIGMA0, DIM), "l2"),
    ("wulff", Laplace.matched(SIGMA0, DIM), "l1"),
    ("wulff", Laplace.matched(SIGMA0, DIM), "linf"),
    ("wulff", UniformCube.matched(SIGMA0, DIM), "l1"),
    ("wulff", UniformCube.matched(SIGMA0, DIM), "linf"),
    ("wulff", UniformBall.matched(SIGMA0, DIM), "l2"),
    ("wulff", Exp2.matched(SIGMA0, DIM, k=1.0, j=0.0), "l2"),
    ("wulff", Exp2.matched(SIGMA0, DIM, k=2.0, j=0.0), "l2"),
    ("wulff", ExpInf.matched(SIGMA0, DIM, k=1.0, j=0.0), "l1"),
    ("wulff", ExpInf.matched(SIGMA0, DIM, k=2.0, j=0.0), "l1"),
    ("wulff", PowInf.matched(SIGMA0, DIM, a=DIM + 10.0), "l1"),
    ("wulff", Pareto.matched(SIGMA0, DIM, a=3.0), "l1"),
    ("fdiv-kl", Gaussian(SIGMA0, DIM), "l2"),
    ("fdiv-kl", Laplace.matched(SIGMA0, DIM), "l1"),
    ("fdiv-renyi", Gaussian(SIGMA0, DIM), "l2"),
    ("fdiv-hockey-stick", Gaussian(SIGMA0, DIM), "l2"),
    ("fdiv-hockey-stick", Laplace.matched(SIGMA0, DIM), "l1"),
    ("fdiv-hockey-stick", UniformCube.matched(SIGMA0, DIM), "linf"),
]


@pytest.mark.parametrize(
    "name,noise,norm",
    CASES,
    ids=[f"{c}-{n.family}-k{getattr(n, 'k', '')}-{m}" for c, n, m in CASES],
)
def test_radii_per_second(benchmark, one_thread, name, noise, norm):
    certifier = certifiers.get(name)
    p = realistic_p()
    certifier.radius(noise, p, norm)  # builds and caches any table outside the timing
    radii = benchmark(certifier.radius, noise, p, norm)
    assert radii.shape == p.shape and np.all(radii >= 0)
    rate = p.size / benchmark.stats.stats.median  # the median, as bench_radii
    benchmark.extra_info["radii_per_second"] = rate
    benchmark.extra_info["noise"] = noise.name
    SUMMARY.append(f"radii/s (realistic p) {name:18s} {noise.family:21s} {norm:4s}: {rate:12,.0f}")
