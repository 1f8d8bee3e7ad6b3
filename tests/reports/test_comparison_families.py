"""The comparison table and its marks, against independent recomputation: the paired
counts from the per-image outcomes, the adjusted p-values from statsmodels over the
families the report documents (Benjamini-Hochberg over one comparison kind's accuracy
grid, Holm over every pair of rows of a column for its vs-best comparisons, as the best
is chosen from the same data), and marks that follow the adjusted
p-values, never the raw ones."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps
from statsmodels.stats.multitest import multipletests

from harness.certify import certify_store
from harness.noise import Gaussian, Laplace
from reports import significance as sig
from reports.leaderboard import build_report
from reports.rows import Row
from reports.settings import ReportSettings
from reports.tidy import load_outcomes
from tests.reports._references import mcnemar_midp
from tests.reports._report_synth import ALPHA, DIM, ScaledCohen, TestGG, add_counts, new_store

RADII = (0.0, 0.1, 0.25, 0.5)


class _Scaled(ScaledCohen):
    families = (Gaussian, TestGG)


@pytest.fixture
def board_and_outcomes(tmp_path, plugins):
    """Three models; on each a Gaussian and a TestGG noise (compared with the Gaussian
    row: kind ``gaussian``), certified by Cohen and by two scaled certifiers (kind
    ``same-noise``), with varied predictions and p_A, so that p-values spread."""
    plugins.noise("test_gg", TestGG)
    for name, factor in (("test-wide", 1.25), ("test-narrow", 0.8)):
        cls = type(f"T_{name}", (_Scaled,), {"factor": factor})
        cls.name = name
        plugins.certifier(name, cls)
    n_images = 150
    models = {"m1": 0.25, "m2": 0.25, "m3": 0.25}
    store = new_store(tmp_path / "s.sqlite", n_images, models)
    labels = np.arange(n_images) % 10
    wrong = (labels + 1) % 10
    rng = np.random.default_rng(3)
    for i, model in enumerate(models):
        for noise, share in ((Gaussian(0.25, DIM), 0.55 + 0.1 * i), (TestGG(0.25, DIM), 0.6)):
            right = rng.random(n_images) < share
            tops = rng.integers(520, 1000, n_images)
            add_counts(store, model, noise, labels, np.where(right, labels, wrong), tops)
    certify_store(store, ["cohen", "test-wide", "test-narrow"], ["l2"], [ALPHA], progress=False)
    with store:
        report = build_report(
            load_outcomes(store),
            manifest=store.manifest(),
            specs=store.noise_specs(),
            settings=ReportSettings(radii={"l2": RADII}),
        )
        outcomes = load_outcomes(store)
    (board,) = report.boards
    return board, outcomes


def _certified(outcomes: pd.DataFrame, key, radius: float) -> pd.Series:
    model, noise, certifier = key  # a row's key names its first certifier
    o = outcomes[
        (outcomes["model"] == model)
        & (outcomes["noise"] == noise)
        & (outcomes["certifier"] == certifier)
    ].set_index("image")
    return o["correct"].astype(bool) & ~o["abstained"].astype(bool) & (o["radius"] >= radius)


def test_paired_counts_are_the_images_each_row_alone_certifies(board_and_outcomes):
    board, outcomes = board_and_outcomes
    comps = board.comparisons
    grid = comps[comps["column"] != "acr"]
    assert len(grid) > 50 and (grid["n10"] != grid["n01"]).any()
    for rec in grid.itertuples(index=False):
        x = _certified(outcomes, rec.row, rec.radius)
        y = _certified(outcomes, rec.other, rec.radius)
        x, y = x.align(y, join="inner")
        assert (rec.n10, rec.n01, rec.n) == (int((x & ~y).sum()), int((~x & y).sum()), len(x))
        assert rec.diff == pytest.approx(x.mean() - y.mean(), abs=1e-12)


def test_adjusted_p_values_are_statsmodels_over_the_documented_families(board_and_outcomes):
    comps = board_and_outcomes[0].comparisons
    kinds = set(comps["kind"])
    assert {sig.SAME_NOISE, sig.GAUSSIAN, sig.BEST} <= kinds
    families = 0
    for kind in (sig.SAME_NOISE, sig.GAUSSIAN):
        for part in (comps["column"] != "acr", comps["column"] == "acr"):
            family = comps[(comps["kind"] == kind) & part]
            want = multipletests(family["p"], method="fdr_bh")[1]
            np.testing.assert_allclose(family["p_bh"], want, rtol=1e-12)
            families += 1
    outcomes = board_and_outcomes[1]
    for _, family in comps[comps["kind"] == sig.BEST].groupby("column"):
        # the best is chosen from the same data: Holm over every pair of the column's rows
        keys = [family["row"].iloc[0], *family["other"]]
        radius = family["radius"].iloc[0]
        pairs = [(a, b) for i, a in enumerate(keys) for b in keys[i + 1 :]]
        p = [_pair_p(outcomes, a, b, radius) for a, b in pairs]
        holm = dict(zip(pairs, multipletests(p, method="holm")[1], strict=True))
        want = [holm[(keys[0], other)] for other in family["other"]]
        np.testing.assert_allclose(family["p_holm"], want, rtol=1e-9)
        families += 1
    assert families == 4 + len(RADII) + 1  # the best family of each column and ACR
    # the families are not all of size one: the adjustments change something
    assert (comps["p_bh"] > comps["p"] * (1 + 1e-9)).any()
    assert (comps["p_holm"] > comps["p"] * (1 + 1e-9)).any()


def _pair_p(outcomes: pd.DataFrame, a, b, radius: float) -> float:
    """The mid-p of McNemar's test (a radius), or the paired t-test of radius x correct
    (ACR: radius NaN), of two rows, from the per-image outcomes (scipy)."""
    if np.isnan(radius):
        x, y = (_acr_scores(outcomes, key) for key in (a, b))
        x, y = x.align(y, join="inner")
        return float(sps.ttest_rel(x, y).pvalue)
    x, y = _certified(outcomes, a, radius), _certified(outcomes, b, radius)
    x, y = x.align(y, join="inner")
    return mcnemar_midp(int((x & ~y).sum()), int((~x & y).sum()))


def _acr_scores(outcomes: pd.DataFrame, key) -> pd.Series:
    model, noise, certifier = key
    o = outcomes[
        (outcomes["model"] == model)
        & (outcomes["noise"] == noise)
        & (outcomes["certifier"] == certifier)
    ].set_index("image")
    return o["radius"] * (o["correct"].astype(bool) & ~o["abstained"].astype(bool))


def _comps(**columns) -> pd.DataFrame:
    n = len(next(iter(columns.values())))
    base = {c: [np.nan] * n for c in sig.COMPARISON_COLUMNS}
    base.update(
        row_beyond_reach=[False] * n, other_beyond_reach=[False] * n, n=[100] * n, **columns
    )
    if "family" not in columns:  # a family as ``comparisons`` names it
        base["family"] = [f"{k}:{c}" for k, c in zip(base["kind"], base["column"], strict=True)]
    return pd.DataFrame(base)


def test_reference_marks_follow_the_bh_adjusted_p_not_the_raw_one():
    a, b, ref = ("m", "n1", "x"), ("m", "n2", "y"), ("m", "n0", "cohen")
    comps = _comps(
        kind=[sig.SAME_NOISE, sig.GAUSSIAN],
        column=["cert@0.5", "cert@0.5"],
        row=[a, b],
        other=[ref, ref],
        value=[0.6, 0.4],
        other_value=[0.5, 0.5],
        diff=[0.1, -0.1],
        p=[0.01, 0.01],
        p_bh=[0.06, 0.04],
        p_holm=[0.06, 0.06],
    )
    marks = sig.marks(comps, level=0.05)
    assert (a, "cert@0.5") not in marks  # raw p < 0.05, adjusted not
    assert marks[(b, "cert@0.5")] == sig.MARK_DOWN_G


def test_the_filled_star_needs_every_holm_adjusted_p_below_the_level():
    best, r1, r2 = ("m1", "g", "cohen"), ("m2", "g", "cohen"), ("m3", "g", "cohen")

    def marks_for(p_holm):
        comps = _comps(
            kind=[sig.BEST, sig.BEST],
            column=["clean", "clean"],
            row=[best, best],
            other=[r1, r2],
            value=[0.9, 0.9],
            other_value=[0.7, 0.6],
            diff=[0.2, 0.3],
            p=[0.001, 0.001],
            p_bh=[0.001, 0.001],
            p_holm=p_holm,
        )
        return sig.marks(comps, level=0.05)

    assert marks_for([0.002, 0.002])[(best, "clean")] == sig.MARK_BEST
    # best over all its images, significantly *below* r1 on the images they share
    below = sig.marks(
        _comps(
            kind=[sig.BEST, sig.BEST],
            column=["clean", "clean"],
            row=[best, best],
            other=[r1, r2],
            value=[0.6, 0.9],
            other_value=[0.7, 0.6],
            diff=[-0.1, 0.3],
            p=[0.001, 0.001],
            p_bh=[0.001, 0.001],
            p_holm=[0.002, 0.002],
        )  # fmt: skip
    )
    assert below[(best, "clean")] == sig.MARK_BEST_TIED and below[(r1, "clean")] == sig.MARK_TIED
    held = marks_for([0.07, 0.002])  # raw p below the level, Holm's above it for r1
    assert held[(best, "clean")] == sig.MARK_BEST_TIED
    assert held[(r1, "clean")] == sig.MARK_TIED and (r2, "clean") not in held


def _row(model, noise, certifier, family):
    empty = np.zeros(0)
    return Row(model, noise.name, (certifier,), family, family, empty, empty, empty, empty,
               empty, 0.0, 0.0)  # fmt: skip


def test_a_noise_meets_the_gaussian_row_of_its_second_moment_else_of_sigma0():
    """Laplace of scale 0.25 / sqrt(2) has the second moment of Gaussian sigma 0.25; the
    model was trained at sigma0 = 0.5. The moment decides; with no Gaussian row of that
    moment, sigma0 does; with neither, no Gaussian comparison, and a note says why."""
    laplace = Laplace(0.25 / np.sqrt(2), DIM)
    g25, g50, g12 = Gaussian(0.25, DIM), Gaussian(0.5, DIM), Gaussian(0.12, DIM)
    specs = {nz.name: nz.spec() for nz in (laplace, g25, g50, g12)}
    lap = _row("m", laplace, "wulff", "laplace")
    by_moment, by_sigma, neither = (_row("m", g, "cohen", "gaussian") for g in (g25, g50, g12))

    def gaussian_ref(rows, sigma0):
        refs, notes = sig.reference_map(rows, "cohen", specs=specs, sigma0={"m": sigma0})
        chosen = refs[lap.key].get(sig.GAUSSIAN)
        return (chosen.noise if chosen else None), notes

    assert gaussian_ref([lap, by_sigma, by_moment], 0.5) == (g25.name, [])
    assert gaussian_ref([lap, neither, by_sigma], 0.5) == (g50.name, [])
    chosen, notes = gaussian_ref([lap, neither, by_sigma], 0.3)
    assert chosen is None and "2 Gaussian cohen rows on m and none matches" in notes[0]
    assert gaussian_ref([lap, neither], 0.3) == (g12.name, [])  # the only one


def test_ties_for_the_best_value_go_to_the_larger_acr():
    rows = [SimpleNamespace(v=0.6, acr=0.3), SimpleNamespace(v=0.6, acr=0.4)]
    column = SimpleNamespace(value=lambda r, ctx: r.v)
    acr = SimpleNamespace(value=lambda r, ctx: r.acr)
    assert sig.best_row(rows, column, None, acr) is rows[1]
    assert sig.best_row(rows[::-1], column, None, acr) is rows[1]


def test_the_reach_mark_only_where_the_row_itself_is_within_its_reach():
    """§ says the reference row's draws end before the radius; where the row's own draws
    end there too, neither certifies anything there and the mark would explain nothing."""
    a, ref = ("m", "n1", "x"), ("m", "n0", "cohen")

    def mark(row_beyond):
        comps = _comps(
            kind=[sig.SAME_NOISE], column=["cert@0.5"], row=[a], other=[ref], value=[0.2],
            other_value=[0.0], diff=[0.2], p=[1e-6], p_bh=[1e-6], p_holm=[1e-6],
        )  # fmt: skip
        comps["other_beyond_reach"] = True
        comps["row_beyond_reach"] = row_beyond
        return sig.marks(comps)[(a, "cert@0.5")]

    assert mark(False) == sig.MARK_UP + sig.MARK_REF_BEYOND
    assert mark(True) == sig.MARK_UP
