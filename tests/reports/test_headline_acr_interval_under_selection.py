"""The headline shows the ACR difference of the best row by ACR (here the best challenger
on another noise) against its reference, with a paired t interval. The row is chosen
because its ACR is the largest, so under a null where every row has identical true
per-image certification probabilities (``tests.reports._nullsim``) the interval must
still leave out 0 in at most 5% of boards (3 Monte Carlo standard errors allowed). Not
adjusted for the choice, with a Gaussian reference row and 20 other noises, it did in 20%
of them."""

import numpy as np
import pandas as pd

from reports import significance as sig
from reports import stats
from reports.columns import board_columns
from reports.headline import headline
from reports.leaderboard import Board
from tests.reports._nullsim import ALPHA, N_DRAWS, RADII, World, many_noises

REPS, J, LEVEL = 300, 20, 0.05


def test_the_headline_acr_interval_leaves_out_zero_at_most_at_its_level_under_null(
    monkeypatch,
):
    class _Plan:  # the sample-size planner enters no interval: left out, for speed
        n = 1

    monkeypatch.setattr(stats, "mcnemar_sample_size", lambda *a, **k: _Plan)
    monkeypatch.setattr(stats, "unpaired_sample_size", lambda *a, **k: _Plan)
    rng = np.random.default_rng(20261207)
    columns = board_columns(RADII)
    hits, chosen_from = [], set()
    for _ in range(REPS):
        rows = many_noises(World(rng, n_img=500), J, 1.0)
        refs, _ = sig.reference_map(rows, "cohen")
        board = Board(
            "synthetic", "l2", ALPHA, list(RADII), columns, rows, pd.DataFrame(),
            pd.DataFrame(), {}, refs, ["m"], {}, "cohen", draws=N_DRAWS,
        )  # fmt: skip
        h = headline(board, LEVEL)
        lo, hi = h.acr_ci
        hits.append(bool(lo > 0 or hi < 0))
        chosen_from.add(h.chosen_from)
        assert (h.p_acr < LEVEL) == hits[-1]  # the interval and the adjusted p agree
    rate = float(np.mean(hits))
    se0 = np.sqrt(LEVEL * (1 - LEVEL) / REPS)
    assert chosen_from == {J}  # each challenger against its Gaussian row
    assert rate <= LEVEL + 3 * se0, (
        f"the headline's ACR interval left out 0 in {rate:.3f} of {REPS} null boards "
        f"(1 Gaussian row + {J} noises, identical true per-image probabilities)"
    )
