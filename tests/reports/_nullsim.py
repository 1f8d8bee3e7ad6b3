"""Leaderboard rows alike in truth, for tests of the report's marks and headline under the
null, without writing stores: ``reports.rows.Row`` objects built directly.

Null model: one model, n_img test images. Image i has a fixed correctness c_i (shared by
every row: same model) and a true top-class probability p_i = Phi(m_i), m_i ~ N(mu, sd).
Every row draws its estimation counts for image i as
    k = Bin(n_shared, p_i) [shared by all rows]  +  Bin(n_own, p_i) [independent per row],
n_shared + n_own = N_DRAWS; then the one-sided Clopper-Pearson lower bound at ALPHA and
Cohen's radius sigma * Phi^{-1}(p_lower), abstaining where p_lower <= 1/2. So every row has
IDENTICAL true per-image certification probabilities (exchangeable rows), and the share
eps = n_own / N_DRAWS sets how correlated they are (eps -> 0: nearly identical rows, few
discordant images).
"""

from __future__ import annotations

import numpy as np
from scipy import stats as sps

from reports.rows import Row

N_DRAWS = 1000
ALPHA = 0.001
SIGMA = 0.5
RADII = [0.0, 0.25, 0.5, 0.75, 1.0, 1.5]  # the default l2 grid (reports/settings.py)


class World:
    """The test images of one model: each one's correctness and true top-class
    probability, shared by every row."""

    def __init__(self, rng, n_img=500, mu=1.5, sd=1.0, acc=0.8):
        self.rng = rng
        self.n_img = n_img
        self.correct = rng.random(n_img) < acc
        self.p = sps.norm.cdf(rng.normal(mu, sd, n_img))

    def outcomes(self, n_rows, eps):
        """(n_rows, n_img) radius and abstained arrays, rows exchangeable."""
        rng = self.rng
        n_own = int(round(eps * N_DRAWS))
        shared = rng.binomial(N_DRAWS - n_own, self.p)
        own = rng.binomial(n_own, np.broadcast_to(self.p, (n_rows, self.n_img)))
        k = shared[None, :] + own
        pl = np.where(k > 0, sps.beta.ppf(ALPHA, np.maximum(k, 1), N_DRAWS - k + 1), 0.0)
        abst = pl <= 0.5
        rad = np.where(abst, 0.0, SIGMA * sps.norm.ppf(np.clip(pl, 0.5, 1 - 1e-16)))
        return rad, abst


def make_row(world, model, noise, cert, family, label, rad, abst):
    """One row of ``world``'s images with these radii and abstentions."""
    n = world.n_img
    return Row(
        model, noise, (cert,), family, label, np.arange(n), rad.copy(),
        world.correct & ~abst, abst.copy(), np.zeros(n), 0.01, 0.0,
    )  # fmt: skip


def same_noise_certifiers(world, k, eps):
    """k rows on ONE Gaussian noise: 'cohen' (the reference) and k-1 other certifiers,
    all with identical true per-image probabilities."""
    rad, abst = world.outcomes(k, eps)
    rows = [make_row(world, "m", "gauss", "cohen", "gaussian", "G", rad[0], abst[0])]
    for j in range(1, k):
        rows.append(make_row(world, "m", "gauss", f"c{j}", "gaussian", "G", rad[j], abst[j]))
    return rows


def many_noises(world, j, eps):
    """One Gaussian cohen row (the reference) and j non-Gaussian noises each with a cohen
    row: j+1 rows, identical true per-image probabilities."""
    rad, abst = world.outcomes(j + 1, eps)
    rows = [make_row(world, "m", "gauss", "cohen", "gaussian", "G", rad[0], abst[0])]
    for i in range(1, j + 1):
        rows.append(make_row(world, "m", f"lap{i}", "cohen", "laplace", f"L{i}", rad[i], abst[i]))
    return rows
