"""A leaderboard row's per-image statistics and the board's columns, recomputed by hand.

Each quantity is derived here from the per-image (radius, correct, abstained) arrays with
plain Python loops (or scipy for the interval and the false-certificate bound), never from
the code under test: certified accuracy at r counts an image when it is not abstained,
correct and ``radius >= r``; the ACR is the mean of ``radius x correct``.
"""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats as sps

from reports.columns import MCNEMAR, PAIRED_T, Context, board_columns, compared_columns
from reports.rows import Row, shared_images

GRID = (0.0, 0.25, 0.5, 1.0)


def make_row(images, radius, correct, abstained, *, kind="smoothing", reach=None, spent=0.0):
    n = len(images)
    return Row(
        "m", "nz", ("cohen",), "gaussian", "Gaussian", np.asarray(images, np.int64),
        np.asarray(radius, np.float64), np.asarray(correct, bool), np.asarray(abstained, bool),
        np.full(n, 0.9), 0.01, spent, kind=kind, reach=reach,
    )  # fmt: skip


# an image: abstained (radius 0, wrong), wrong, or right; radii hit the grid exactly
_image = st.one_of(
    st.just((0.0, False, True)),
    st.tuples(st.sampled_from([0.0, *GRID, 0.3, 0.75, 2.0]), st.booleans(), st.just(False)),
)


@st.composite
def rows(draw, min_size=1):
    outcomes = draw(st.lists(_image, min_size=min_size, max_size=25))
    images = sorted(
        draw(st.sets(st.integers(0, 200), min_size=len(outcomes), max_size=len(outcomes)))
    )
    radius, correct, abstained = (list(x) for x in zip(*outcomes, strict=True))
    return make_row(images, radius, correct, abstained)


def certified_by_hand(row, r):
    return [
        (not a) and c and rad >= r
        for rad, c, a in zip(
            row.radius.tolist(), row.correct.tolist(), row.abstained.tolist(), strict=True
        )
    ]


def score_by_hand(row):
    return [
        rad if c and not a else 0.0
        for rad, c, a in zip(row.radius, row.correct, row.abstained, strict=True)
    ]


@settings(max_examples=150, deadline=None)
@given(rows())
def test_certified_and_score_match_the_definition(row):
    for r in (*GRID, *row.radius.tolist()):
        assert row.certified(r).tolist() == certified_by_hand(row, r)
    assert row.score().tolist() == score_by_hand(row)


@settings(max_examples=100, deadline=None)
@given(rows())
def test_board_columns_values_scores_and_intervals_by_hand(row):
    cols = board_columns(GRID)
    ctx = Context(0.001)
    radius_cols = [c for c in cols if c.radius is not None]
    # one certified-accuracy column per radius of the grid, in its order, 0 first ("clean")
    assert [c.radius for c in radius_cols] == list(GRID)
    assert radius_cols[0].key == "clean"
    assert [c.key for c in radius_cols[1:]] == [f"cert@{r:g}" for r in GRID[1:]]
    z = sps.norm.ppf(1 - 0.05 / 2)
    for c in radius_cols:
        hand = certified_by_hand(row, c.radius)
        k, n = sum(hand), len(hand)
        assert math.isclose(c.value(row, ctx), k / n)
        assert c.score(row).tolist() == hand
        # Wilson (1927) at 95%, from its closed form
        p = k / n
        centre = (p + z * z / (2 * n)) / (1 + z * z / n)
        half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
        lo, hi = c.interval(row)
        assert math.isclose(lo, max(0.0, centre - half), abs_tol=1e-9)
        assert math.isclose(hi, min(1.0, centre + half), abs_tol=1e-9)
    by_key = {c.key: c for c in cols}
    assert math.isclose(by_key["acr"].value(row, ctx), sum(score_by_hand(row)) / row.n)
    assert by_key["acr"].score(row).tolist() == score_by_hand(row)
    assert by_key["n"].value(row, ctx) == row.n
    assert math.isclose(by_key["abstain"].value(row, ctx), sum(row.abstained.tolist()) / row.n)


def test_the_compared_columns_are_every_certified_accuracy_and_the_acr():
    cols = board_columns(GRID)
    compared = {c.key: c.test for c in compared_columns(cols)}
    assert compared == {
        "clean": MCNEMAR,
        **{f"cert@{r:g}": MCNEMAR for r in GRID[1:]},
        "acr": PAIRED_T,
    }


def test_an_image_exactly_at_the_radius_is_certified_there():
    row = make_row([0, 1, 2], [0.5, 0.5, 0.0], [True, False, False], [False, False, True])
    by_key = {c.key: c for c in board_columns(GRID)}
    ctx = Context(0.001)
    assert by_key["cert@0.5"].value(row, ctx) == 1 / 3  # the right image at exactly 0.5
    assert by_key["clean"].value(row, ctx) == 1 / 3  # neither the wrong one nor the abstention
    assert by_key["acr"].value(row, ctx) == 0.5 / 3


@settings(max_examples=100, deadline=None)
@given(rows(min_size=2), st.data())
def test_a_row_on_a_subset_keeps_each_images_own_outcome(row, data):
    keep = sorted(data.draw(st.sets(st.sampled_from(row.images.tolist()), min_size=1)))
    row.reach, row.kind = 0.7, "imported"
    sub = row.on(np.asarray(keep, np.int64))
    own = {
        int(i): (float(r), bool(c), bool(a), float(p))
        for i, r, c, a, p in zip(
            row.images, row.radius, row.correct, row.abstained, row.p_lower, strict=True
        )
    }
    got = list(
        zip(
            sub.radius.tolist(),
            sub.correct.tolist(),
            sub.abstained.tolist(),
            sub.p_lower.tolist(),
            strict=True,
        )
    )
    assert sub.images.tolist() == keep
    assert got == [own[i] for i in keep]
    assert (sub.reach, sub.kind, sub.certifiers, sub.model, sub.noise) == (
        0.7,
        "imported",
        ("cohen",),
        "m",
        "nz",
    )


@settings(max_examples=100, deadline=None)
@given(st.lists(st.sets(st.integers(0, 30), min_size=1), min_size=1, max_size=4))
def test_shared_images_are_those_every_row_has(image_sets):
    rows_ = [
        make_row(sorted(s), [0.0] * len(s), [True] * len(s), [False] * len(s)) for s in image_sets
    ]
    assert shared_images(rows_).tolist() == sorted(set.intersection(*image_sets))


def test_beyond_reach_is_strictly_beyond_a_known_reach():
    row = make_row([0], [0.0], [True], [False], reach=0.5)
    assert not row.beyond_reach(0.5)  # the reach itself can be certified
    assert row.beyond_reach(0.5000001)
    assert not row.beyond_reach(0.25)
    assert not row.beyond_reach(None)
    assert not make_row([0], [0.0], [True], [False]).beyond_reach(3.0)  # reach unknown


def _bound_by_hand(n, alpha, spent, issued, confidence=0.95):
    """The smallest k with P(Bin(n, alpha) > k) <= 1 - confidence - spent, at most issued."""
    k = next((k for k in range(n + 1) if sps.binom.sf(k, n, alpha) <= 1 - confidence - spent), n)
    return min(k, issued)


def test_false_certificate_bound_by_hand():
    col = next(c for c in board_columns(GRID) if c.key == "false_cert")
    n = 1000
    everyone = make_row(range(n), [0.3] * n, [True] * n, [False] * n, spent=0.02)
    ctx = Context(0.01)
    assert col.value(everyone, ctx) == _bound_by_hand(n, 0.01, 0.02, n)
    assert _bound_by_hand(n, 0.01, 0.02, n) != _bound_by_hand(n, 0.01, 0.0, n)  # spent matters
    # three certificates issued, the rest abstained: never more than three false
    few = make_row(range(n), [0.3] * 3 + [0.0] * (n - 3), [True] * 3 + [False] * (n - 3),
                   [False] * 3 + [True] * (n - 3))  # fmt: skip
    assert col.value(few, ctx) == 3
    abstained = make_row(range(n), [0.0] * n, [False] * n, [True] * n)
    assert col.value(abstained, ctx) == 0
    # deterministic certificates are proofs
    det = make_row(range(n), [0.3] * n, [True] * n, [False] * n, kind="deterministic")
    assert col.value(det, ctx) == 0


def test_the_reach_column_is_the_rows_reach():
    col = next(c for c in board_columns(GRID) if c.key == "reach")
    ctx = Context(0.001)
    assert col.value(make_row([0], [0.0], [True], [False], reach=0.7), ctx) == 0.7
    assert math.isnan(col.value(make_row([0], [0.0], [True], [False]), ctx))


def test_an_abstention_is_never_certified_even_if_marked_correct():
    """``Row.certified`` and ``Row.score`` read ``abstained`` themselves: a row whose
    ``correct`` was not cleared for an abstention still counts it as not certified."""
    row = make_row([1, 2, 3], [0.6, 0.6, 0.6], [True, True, False], [True, False, False])
    assert row.certified(0.0).tolist() == [False, True, False]
    assert row.score().tolist() == [0.0, 0.6, 0.0]
