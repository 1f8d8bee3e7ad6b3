"""A row that failed the soundness check (its values are not certificates) stays out of
the sound rows' vs-reference families: its small p-values sat in the same
Benjamini-Hochberg family as theirs, and BH's step-up let them pull a sound row's
adjusted p under the level (a mark from the unsound row's data); a sound row compared
with a reference row that failed the check got a mark against values that are no
certificates. The expected adjusted p-values are statsmodels' over the sound rows'
comparisons alone."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.multitest import multipletests

from reports import significance as sig
from reports.leaderboard import build_board
from reports.settings import ReportSettings

N = 100
SPECS = {
    "g": {"family": "gaussian", "params": {"sigma": 0.5}},
    "lap": {"family": "laplace", "params": {"scale": 0.5}},
}
SETTINGS = ReportSettings(reference="cohen", radii={"l2": (0.0,), "linf": (0.0,), "l1": (0.0,)})


def _rows(noise: str, certifier: str, correct: np.ndarray) -> pd.DataFrame:
    return pd.DataFrame({
        "dataset": "d", "model": "m", "noise": noise, "family": SPECS[noise]["family"],
        "certifier": certifier, "norm": "l2", "alpha": 0.001, "image": np.arange(N),
        "label": 0, "prediction": np.where(correct, 0, 1), "p_lower": 0.9, "radius": 1.0,
        "correct": correct, "abstained": False, "confidence_spent": 0.0, "seconds": 0.01,
        "kind": "smoothing",
    })  # fmt: skip


def _outcomes(only_a: int, only_u: int) -> pd.DataFrame:
    """Rows ``a``, ``b`` on noise g and ``u`` on lap, with Cohen on both: ``a`` certifies
    ``only_a`` images Cohen does not (and none the other way), ``b`` 2 against 1, ``u``
    ``only_u`` against 0."""
    base = np.arange(N) < 50
    a, b, u = base.copy(), base.copy(), base.copy()
    a[50 : 50 + only_a] = True
    b[50:52], b[0] = True, False
    u[50 : 50 + only_u] = True
    parts = [("g", "cohen", base), ("g", "a", a), ("g", "b", b), ("lap", "cohen", base),
             ("lap", "u", u)]  # fmt: skip
    return pd.concat([_rows(*part) for part in parts], ignore_index=True)


def _board(df: pd.DataFrame, unsound: tuple[str, str], unchecked: bool = False):
    """``unsound``'s row failed the soundness check (``unchecked``: it could not check it)."""
    row = ("d", "l2", 0.001, "m", *unsound)
    fail = {} if unchecked else {row: ["soundness"]}
    why = {row: {"soundness": "noise family not registered"}} if unchecked else {}
    return build_board(
        df, "d", "l2", 0.001, SETTINGS, specs=SPECS, sigma0={"m": 0.5}, sanity_fail=fail,
        sanity_unchecked=why,
    )  # fmt: skip


@pytest.mark.parametrize("unchecked", [False, True], ids=["failed", "unchecked"])
def test_an_unsound_rows_p_values_leave_the_sound_rows_adjustment(unchecked):
    board = _board(_outcomes(only_a=5, only_u=40), ("lap", "u"), unchecked)
    assert ("m", "lap", "u") in (board.unchecked if unchecked else board.unsound)
    c = board.comparisons
    reference = c["kind"].isin([sig.SAME_NOISE, sig.GAUSSIAN])
    sound = c[reference & ~c["row"].isin(board.held_out) & ~c["other"].isin(board.held_out)]
    assert len(sound) == 6  # a and b, and Cohen on lap against the Gaussian, both columns
    for _, family in sound.groupby("family"):
        want = multipletests(family["p"].to_numpy(), method="fdr_bh")[1]
        np.testing.assert_allclose(family["p_bh"], want, rtol=1e-12)
    same = sound[(sound["kind"] == sig.SAME_NOISE) & (sound["column"] == "clean")]
    q = dict(zip(same["row"], multipletests(same["p"], method="fdr_bh")[1], strict=True))
    assert 0.05 < q[("m", "g", "a")] < 0.1  # with u's p-values in its family: 0.047
    assert sig.MARK_UP not in board.marks.get((("m", "g", "a"), "clean"), "")


def test_the_marks_of_sound_rows_follow_their_own_family():
    """The same board with ``a`` far above Cohen: its mark stays."""
    board = _board(_outcomes(only_a=20, only_u=40), ("lap", "u"))
    assert sig.MARK_UP in board.marks.get((("m", "g", "a"), "clean"), "")


def test_no_mark_against_a_reference_row_that_failed_the_check():
    board = _board(_outcomes(only_a=20, only_u=40), ("g", "cohen"))
    c = board.comparisons
    against = c[c["other"] == ("m", "g", "cohen")]
    assert len(against) and (against["p"] < 1e-4).any()  # a gap the tests see
    assert not any(key[0] == ("m", "g", "a") for key in board.marks), board.marks
    assert all(family.startswith(sig.HELD_OUT) for family in against["family"])


def test_the_comparison_table_says_which_comparisons_are_held_out():
    """Their small adjusted p-values stood there with no mark and no word why."""
    from reports.view import comparison_table

    board = _board(_outcomes(only_a=5, only_u=40), ("lap", "u"))
    table = comparison_table(board, [sig.SAME_NOISE, sig.GAUSSIAN])
    (_, rows), labels = table.groups[0], {r.key: r.full_label() for r in board.rows}
    kinds = {(row[2].text, row[0].text) for row in rows}
    u = labels[("m", "lap", "u")]
    assert {kind for label, kind in kinds if label == u} == {
        "same-noise (held out)",
        "gaussian (held out)",
    }
    assert all("held out" not in kind for label, kind in kinds if label != u)
    assert "(held out): a comparison of, or with, a row the soundness check" in table.caption
