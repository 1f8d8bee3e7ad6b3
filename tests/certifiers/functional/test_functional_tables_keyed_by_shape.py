"""The mixed-norm l-inf table is kept per ``k`` on disk as well as in memory: radii asked for
two shapes of the same dimension in turn, memory forgotten in between (two processes
sharing a cache folder), each match a table built for that shape alone."""

from __future__ import annotations

import numpy as np

from certifiers import tables
from certifiers.functional import Functional
from certifiers.functional import certifier as functional_certifier
from certifiers.functional import linf as functional_linf
from certifiers.montecarlo import MCSettings
from certifiers.tables import RadiusTable
from harness.noise import MixedNorm


def test_mixed_norm_tables_are_kept_per_k_on_disk(monkeypatch, tmp_path):
    monkeypatch.setenv("SMOOTHBENCH_CACHE", str(tmp_path))
    settings = MCSettings(samples=20_000, grid=30, alpha=1e-3, seed=0)
    p = np.array([0.8, 0.95])
    for k in (1.0, 3.0):
        monkeypatch.setattr(functional_certifier, "_TABLES", {})
        monkeypatch.setattr(tables, "_MEMORY", {})
        c = Functional(mc_samples=settings.samples, mc_grid=settings.grid, mc_alpha=settings.alpha)
        alone = RadiusTable(*functional_linf.build_table(k, 6, settings))
        np.testing.assert_allclose(c.radius(MixedNorm(1.0, k, 6), p, "linf"), alone(p), rtol=1e-12)
