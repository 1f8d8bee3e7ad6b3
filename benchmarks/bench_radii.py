"""(3) Radii per second per certifier, for every registered certifier and every (noise
family, norm) it certifies, on 200 realistic lower bounds (Clopper-Pearson, alpha =
0.001, n = 100,000) at the digits dimension (d = 64), noises matched to sigma0 = 0.25.
Tables (cached on disk) are built before timing. One torch thread.

    pytest benchmarks/bench_radii.py -o python_files='bench_*.py'
"""

from __future__ import annotations

import numpy as np
import pytest

import certifiers
from benchmarks.bench_baselines import realistic_p
from benchmarks.conftest import SUMMARY
from harness.noise import noise_class, noise_families

DIM, SIGMA0 = 64, 0.25


def _cases() -> list[tuple[str, object, str]]:
    """(certifier, a member of the family it certifies, norm), for every table entry."""
    out = []
    families = set(noise_families())
    for name in certifiers.available():
        c = certifiers.get(name)
        for family, norm in sorted(c.certificates):
            if family not in families:
                continue
            members = [n for n in noise_class(family).examples(DIM) if c.supports(n, norm)]
            if members:
                out.append((name, members[-1], norm))
    return out


CASES = _cases()


@pytest.mark.parametrize("name,noise,norm", CASES, ids=[f"{c}-{n.family}-{m}" for c, n, m in CASES])
def test_radii_per_second(benchmark, one_thread, name, noise, norm):
    certifier = certifiers.get(name)
    p = realistic_p()
    certifier.radius(noise, p, norm)  # builds and caches any table outside the timing
    benchmark.group = "radii-per-second"
    radii = benchmark(certifier.radius, noise, p, norm)
    assert radii.shape == p.shape and np.all(radii >= 0)
    rate = p.size / benchmark.stats.stats.median
    benchmark.extra_info["radii_per_second"] = rate
    SUMMARY.append(f"radii/s {name:18s} {noise.family:21s} {norm:4s}: {rate:12,.0f}")
