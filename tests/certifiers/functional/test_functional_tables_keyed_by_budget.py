"""A Monte Carlo table is kept per Monte Carlo budget, in memory and on disk.

A table built at a larger ``mc_alpha`` (less confidence) certifies larger radii; served to
a certifier configured with a smaller ``mc_alpha`` it would certify those radii while
``confidence_spent`` states the smaller failure probability: a false guarantee. The
property checked needs no reference value: at the same draws (same seed, samples and
grid), the Clopper-Pearson correction at a smaller alpha is larger, so the radius is never
larger at any p and strictly smaller at some p.
"""

from __future__ import annotations

import numpy as np
import pytest

from certifiers import tables
from certifiers.functional import Functional
from certifiers.functional import certifier as functional_certifier
from harness.noise import GeneralizedLaplace, MixedNorm

CASES = [(MixedNorm(0.5, 2.0, 4), "linf"), (GeneralizedLaplace(0.5, 2.0, 4), "l1")]
P = np.linspace(0.55, 0.999, 40)
BUDGET = {"mc_samples": 20_000, "mc_grid": 40, "mc_seed": 3}


def _forget_memory(monkeypatch) -> None:
    monkeypatch.setattr(functional_certifier, "_TABLES", {})
    monkeypatch.setattr(tables, "_MEMORY", {})


@pytest.mark.parametrize(("noise", "norm"), CASES, ids=["mixed_norm", "generalized_laplace"])
def test_a_certifier_never_reuses_a_table_of_another_alpha(noise, norm, monkeypatch, tmp_path):
    """Two certifiers in one process (the in-memory table cache)."""
    monkeypatch.setenv("SMOOTHBENCH_CACHE", str(tmp_path))
    _forget_memory(monkeypatch)
    loose = Functional(mc_alpha=0.2, **BUDGET).radius(noise, P, norm)
    strict = Functional(mc_alpha=1e-9, **BUDGET).radius(noise, P, norm)
    assert np.all(strict <= loose)
    assert np.any(strict < loose)


@pytest.mark.parametrize(("noise", "norm"), CASES, ids=["mixed_norm", "generalized_laplace"])
def test_the_disk_cache_never_serves_a_table_of_another_alpha(noise, norm, monkeypatch, tmp_path):
    """Two processes sharing a cache folder: memory is forgotten between the two builds."""
    monkeypatch.setenv("SMOOTHBENCH_CACHE", str(tmp_path))
    _forget_memory(monkeypatch)
    loose = Functional(mc_alpha=0.2, **BUDGET).radius(noise, P, norm)
    _forget_memory(monkeypatch)
    strict = Functional(mc_alpha=1e-9, **BUDGET).radius(noise, P, norm)
    assert np.all(strict <= loose)
    assert np.any(strict < loose)
    assert len(list((tmp_path / "tables").glob("*.npz"))) == 2
