"""``split_sample_table`` draws two independent halves ``A`` (n_A = samples // 2) and ``B``
(the rest): the threshold is fixed given ``A`` and counted on ``B``, so that the
Clopper-Pearson bound on ``B`` is valid. Reusing ``A`` as ``B`` would select and count on
the same draws (the bias that Cohen et al.'s separate selection sample avoids)."""

from __future__ import annotations

import numpy as np

from certifiers.montecarlo import MCSettings, split_sample_table


def test_the_two_halves_are_separate_draws_of_the_stated_sizes():
    settings = MCSettings(samples=20_001, grid=4, alpha=1e-3, seed=5)
    drawn, seen = [], []

    def sample_statistics(k, dim, n, rng):
        z = rng.standard_normal(n)
        drawn.append(z)
        return z

    def log_ratio(R, z):
        seen.append(z)
        return R * z - R * R / 2

    split_sample_table(sample_statistics, log_ratio, 0.0, 1, np.array([0.1, 0.2, 0.3, 0.4]),
                       settings, stream=9)  # fmt: skip
    assert [len(z) for z in drawn] == [10_000, 10_001]
    a_ids = {id(z) for z in seen[0::2]}
    b_ids = {id(z) for z in seen[1::2]}
    assert a_ids == {id(drawn[0])} and b_ids == {id(drawn[1])}  # A selects, B counts
    assert not np.intersect1d(drawn[0], drawn[1]).size  # no draw shared
