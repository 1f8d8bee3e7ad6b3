"""Null simulations of smoothbench's significance marks and headline, without writing stores.

Rows are built directly as reports.rows.Row objects; marks come from the report's own
reports.significance.comparisons + marks (the same calls reports.leaderboard.build_board
makes), the headline from reports.headline.headline on a reports.leaderboard.Board.

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
import pandas as pd
from scipy import stats as sps

from reports import significance as sig
from reports.columns import Context, board_columns, compared_columns
from reports.headline import headline
from reports.leaderboard import Board
from reports.rows import Row

N_DRAWS = 1000
ALPHA = 0.001
SIGMA = 0.5
RADII = [0.0, 0.25, 0.5, 0.75, 1.0, 1.5]  # the default l2 grid (reports/settings.py)
LEVEL = 0.05


class World:
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
    n = world.n_img
    return Row(
        model, noise, (cert,), family, label, np.arange(n), rad.copy(),
        world.correct & ~abst, abst.copy(), np.zeros(n), 0.01, 0.0,
    )  # fmt: skip


def board_of(rows, radii=RADII, reference="cohen", level=LEVEL):
    """Marks and comparisons exactly as build_board computes them (no held-out rows)."""
    columns = board_columns(radii)
    ctx = Context(ALPHA)
    acr = next(c for c in columns if c.key == "acr")
    refs, notes = sig.reference_map(rows, reference)
    comps = sig.comparisons(rows, compared_columns(columns), refs, ctx, acr, set())
    marks = sig.marks(comps, level)
    board = Board(
        "synthetic", "l2", ALPHA, list(radii), columns, rows, pd.DataFrame(), comps, marks,
        refs, sorted({r.model for r in rows}), {}, reference, draws=N_DRAWS,
    )  # fmt: skip
    return board


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


def claims(board):
    """What the board claims, as booleans (any false claim of a difference, per family)."""
    comps = board.comparisons
    marks = board.marks
    out = {}
    vals = "".join(marks.values())
    out["any_ref_mark"] = any(m in vals for m in "▲▼△▽")
    best = comps[comps["kind"] == sig.BEST]
    sep = (best["p_holm"] < LEVEL) & (best["diff"] > 0) & (best["n"] > 0)
    out["any_best_sep"] = bool(sep.any())  # some row NOT marked ≈ (claimed below the best)
    out["any_star"] = "★" in vals
    per_col = best.assign(sep=sep).groupby("column")["sep"].any()
    out["best_sep_acr"] = bool(per_col.get("acr", False))
    out["best_sep_cert0.5"] = bool(per_col.get("cert@0.5", False))
    out["best_sep_clean"] = bool(per_col.get("clean", False))
    refc = comps[comps["kind"] != sig.BEST]
    acc = refc[refc["column"] != "acr"]
    out["ref_grid_sig"] = bool(((acc["p_bh"] < LEVEL) & (acc["diff"] != 0)).any())
    a = refc[refc["column"] == "acr"]
    out["ref_acr_sig"] = bool(((a["p_bh"] < LEVEL) & (a["diff"] != 0)).any())
    # marks relying on mid-p: a mark-producing comparison whose exact p fails where mid-p passes
    mc = comps[comps["test"].str.startswith("McNemar")]
    out["any_midp_only_raw"] = bool(((mc["p"] < LEVEL) & (mc["p_exact"] >= LEVEL)).any())
    out["any_claim"] = out["any_ref_mark"] or out["any_best_sep"]
    return out


def headline_claim(board):
    h = headline(board, LEVEL)
    return {
        "hl_sig": bool(h.significant),
        "hl_acr_p05": bool(np.isfinite(h.p_acr) and h.p_acr < LEVEL),
        "hl_midp_raw": bool(h.p_midp < LEVEL),
        "hl_exact_raw": bool(h.p_exact < LEVEL),
        "hl_unpaired": bool(h.p_unpaired < LEVEL),
    }


def rate(x):
    x = np.asarray(x, dtype=float)
    p = x.mean()
    return p, np.sqrt(p * (1 - p) / len(x))


def no_power_planning():
    """The headline's sample-size planner is slow (an exact search) and does not enter any
    significance verdict: stub it out for the simulations."""
    import types

    import reports.stats as st

    plan = types.SimpleNamespace(n=1)
    st.mcnemar_sample_size = lambda *a, **k: plan
    st.unpaired_sample_size = lambda *a, **k: plan


def run_scenario(name, make, reps, seed, n_img=500, with_headline=True, **kw):
    import json
    import time

    no_power_planning()
    rng = np.random.default_rng(seed)
    acc = {}
    t = time.time()
    for _ in range(reps):
        w = World(rng, n_img=n_img)
        b = board_of(make(w, **kw))
        c = claims(b)
        if with_headline:
            c.update(headline_claim(b))
        for k, v in c.items():
            acc.setdefault(k, []).append(v)
    res = {k: rate(v) for k, v in acc.items()}
    out = {
        "scenario": name,
        "reps": reps,
        "seed": seed,
        "n_img": n_img,
        **kw,
        "seconds": round(time.time() - t, 1),
        "rates": {k: [round(p, 4), round(se, 4)] for k, (p, se) in res.items()},
    }
    print(json.dumps(out), flush=True)
    return out


def midp_reliance(board):
    """Whether some significance verdict of the board (a ▲▼△▽ mark or a withheld ≈) holds on
    the mid-p but would not with the exact p-values under the same adjustment."""
    from reports import stats

    comps = board.comparisons.copy()
    mc = comps["test"].str.startswith("McNemar")
    comps = comps[mc]
    out = False
    for fam, g in comps.groupby("family"):
        pe = g["p_exact"].to_numpy(float)
        if fam.startswith("best:"):
            adj_m, adj_e = g["p_holm"].to_numpy(float), stats.holm(pe)
            ok = (g["diff"] > 0).to_numpy() & (g["n"] > 0).to_numpy()
        else:
            adj_m, adj_e = g["p_bh"].to_numpy(float), stats.benjamini_hochberg(pe)
            ok = (g["diff"] != 0).to_numpy()
        out |= bool(np.any(ok & (adj_m < LEVEL) & (adj_e >= LEVEL)))
    return out
