"""The reach of a row (the largest radius its draws allow) and the headline's note where a
gap lies beyond one row's reach."""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy.special import ndtri

from harness.certify import certify_store
from harness.noise import Gaussian, noise_class
from reports.headline import compare_rows
from reports.json_entries import json_entries
from reports.latex import board_table
from reports.leaderboard import build_report
from reports.plots import REACH_MARKER, certified_accuracy_figure, plotted_rows
from reports.reach import MARK, ceiling, reach, run_draws
from reports.rows import SAME_RADIUS_RTOL
from reports.settings import ReportSettings
from reports.tidy import load_outcomes
from reports.view import comparison_table, main_table
from tests.reports._report_synth import ALPHA, DIM, N, add_counts, new_store


@given(n=st.integers(1, 10**7), alpha=st.floats(1e-12, 0.5))
def test_the_ceiling_is_alpha_to_the_one_over_n(n, alpha):
    """``Beta.ppf(alpha, n, 1) = alpha^(1/n)``: the Beta(n, 1) CDF is ``x^n``."""
    assert ceiling(n, alpha) == pytest.approx(alpha ** (1.0 / n), rel=1e-12)


def _store(tmp_path, noises, tops, certifiers=("cohen", "wulff", "fdiv-kl", "fdiv-hockey-stick")):
    """One model; every noise sees the same images, all predicted correctly, with ``tops``
    of the N estimation draws on the top class, certified by ``certifiers``."""
    store = new_store(tmp_path / "s.sqlite", len(tops), {"m": 0.25})
    labels = np.arange(len(tops)) % 10
    for noise in noises:
        add_counts(store, "m", noise, labels, labels, tops)
    certify_store(store, list(certifiers), ["l1", "l2", "linf"], [ALPHA], progress=False)
    return store


def test_every_row_certifies_at_most_its_reach_and_reaches_it_at_the_ceiling(tmp_path):
    noises = [
        Gaussian(0.25, DIM),
        noise_class("laplace").matched(0.25, DIM),
        noise_class("uniform_cube").matched(0.25, DIM),
    ]
    tops = np.array([N, N, N - 1, 990, 900, 700, 520])
    with _store(tmp_path, noises, tops) as store:
        report = build_report(load_outcomes(store), manifest=store.manifest(),
                              specs=store.noise_specs())  # fmt: skip
    checked = 0
    for board in report.boards:
        assert board.draws == N
        for row in board.rows:
            most = reach(row.certifiers, board.norm, board.alpha, N, board.specs[row.noise])
            assert most is not None and row.reach == most  # the board's rows carry it
            assert row.on(row.images[:2]).reach == most
            assert row.radius.max() <= most
            at_ceiling = row.p_lower == ceiling(N, ALPHA)
            assert at_ceiling.sum() == 2
            # a row's certifiers agree to SAME_RADIUS_RTOL; its reach is the largest of theirs
            np.testing.assert_allclose(row.radius[at_ceiling], most, rtol=SAME_RADIUS_RTOL)
            checked += 1
    assert checked >= 9


def test_the_reach_of_cohens_row_is_the_closed_form():
    """``sigma Phi^{-1}(alpha^(1/n))`` against l2, that over ``sqrt(d)`` against l-inf."""
    noise = Gaussian(0.25, DIM)
    for n in (100, 10_000, 100_000):
        top = 0.25 * ndtri(ALPHA ** (1.0 / n))
        assert reach(["cohen"], "l2", ALPHA, n, noise.spec()) == pytest.approx(top, rel=1e-12)
        linf = reach(["cohen"], "linf", ALPHA, n, noise.spec())
        assert linf == pytest.approx(top / math.sqrt(DIM), rel=1e-12)
    assert reach(["cohen"], "l2", ALPHA, None, noise.spec()) is None
    assert reach(["cohen"], "l2", ALPHA, 100, None) is None


def test_a_gap_beyond_one_rows_reach_is_named_and_not_quoted(tmp_path):
    """Two Gaussians on every image at the ceiling: sigma 0.25 reaches 0.616 with N = 1000
    draws at alpha = 0.001, sigma 0.3 reaches 0.739. At r = 0.7 only the second certifies:
    a gap of 100 points that the draws make, and none within the first row's reach, so
    the headline finds no gap and no significance (it called the 100 points significant)."""
    small, large = Gaussian(0.25, DIM), Gaussian(0.3, DIM)
    tops = np.full(40, N)
    with _store(tmp_path, [small, large], tops, ["cohen"]) as store:
        settings = ReportSettings(radii={"l2": (0.0, 0.5, 0.7)})
        report = build_report(load_outcomes(store), manifest=store.manifest(),
                              specs=store.noise_specs(), settings=settings)  # fmt: skip
    board = next(b for b in report.boards if b.norm == "l2")
    rows = {r.noise: r for r in board.rows}
    h = compare_rows(board, rows[large.name], rows[small.name])
    assert (h.value, h.other_value) == (1.0, 1.0) and not h.significant  # within both reaches
    assert h.short is not None and h.short.row is rows[small.name]
    assert h.short.reach == pytest.approx(0.25 * ndtri(ALPHA ** (1 / N)), rel=1e-12)
    assert h.short.gap[:3] == (0.7, 1.0, 0.0) and h.short.gap[3] < 0.05
    lines = dict(h.lines())
    assert "lies beyond the reach of the second row (Gaussian" in lines["Reach"]
    assert "at r = 0.7: 100.0% vs 0.0% (+100.0 points" in lines["Reach"]
    assert lines["Largest gap"].startswith("none: the two rows certify the same images at")
    assert "not significant" in lines["Paired test (McNemar)"]
    # the HTML table greys exactly the cells beyond a row's reach, and says why
    table = main_table(board)
    flagged = 0
    radii = {title: i for i, title in enumerate(table.header) if title.startswith("r=")}
    for row, cells in zip(board.rows, table.rows, strict=True):
        for title, i in radii.items():
            beyond = float(title[2:]) > row.reach
            assert (cells[i].cls == "beyond") == beyond, (row.noise, title)
            assert ("beyond the row's reach" in cells[i].title) == beyond
            assert cells[i].text.endswith(MARK) == beyond  # Markdown has no grey
            flagged += beyond
    assert flagged > 0 and f"{MARK} (grey in the HTML)" in table.caption
    # the LaTeX table marks the same cells
    assert board_table(board, 0.05).count(r"$^{\ddagger}$") == flagged
    # the plot marks each curve's reach on the radius axis, in the curve's colour
    fig, _ = certified_accuracy_figure(board, "m")
    (ax,) = fig.axes
    curves = {line.get_label(): line for line in ax.get_lines() if line.get_gid() is None}
    marks = [line for line in ax.get_lines() if line.get_gid() == REACH_MARKER]
    rows = plotted_rows(board, "m")
    assert len(marks) == len(rows) == len(curves) == 2
    for row, mark in zip(rows, marks, strict=True):
        assert tuple(mark.get_xdata()) == (row.reach,) and tuple(mark.get_ydata()) == (0.0,)
        assert mark.get_color() == curves[f"{row.label} · {row.certifier_short}"].get_color()
    plt.close(fig)
    # the same two rows on a grid within both reaches: no note
    settings = ReportSettings(radii={"l2": (0.0, 0.5, 0.6)})
    with _store(
        tmp_path / "b", [small, large], np.r_[tops[:20], np.full(20, 600)], ["cohen"]
    ) as store:
        board = build_report(load_outcomes(store), manifest=store.manifest(),
                             specs=store.noise_specs(), settings=settings).boards[1]  # fmt: skip
    rows = {r.noise: r for r in board.rows}
    h = compare_rows(board, rows[large.name], rows[small.name])
    assert h.short is None and "Reach" not in dict(h.lines())


def test_the_comparison_grids_flag_exactly_the_values_beyond_their_rows_reach(tmp_path):
    """Every comparison (vs reference and vs best) says which of its two rows cannot
    certify at the column's radius, by the reach computed afresh from the noise; the
    appendix marks exactly those values."""
    noises = [Gaussian(0.25, DIM), Gaussian(0.3, DIM), noise_class("laplace").matched(0.25, DIM)]
    with _store(tmp_path, noises, np.r_[np.full(30, N), np.full(10, 990)]) as store:
        settings = ReportSettings(radii={"l2": (0.0, 0.5, 0.7), "l1": (0.0, 0.5, 0.7)})
        report = build_report(load_outcomes(store), manifest=store.manifest(),
                              specs=store.noise_specs(), settings=settings)  # fmt: skip
    flagged = 0
    for board in (b for b in report.boards if b.norm in ("l1", "l2")):
        reaches = {
            r.key: reach(r.certifiers, board.norm, ALPHA, N, board.specs[r.noise])
            for r in board.rows
        }
        comps = board.comparisons
        assert {"gaussian", "best"} <= set(comps["kind"])
        for rec in comps.itertuples(index=False):
            radius = rec.radius if np.isfinite(rec.radius) else -np.inf  # ACR: no radius
            assert rec.row_beyond_reach == (radius > reaches[rec.row])
            assert rec.other_beyond_reach == (radius > reaches[rec.other])
        flagged += int(comps["row_beyond_reach"].sum() + comps["other_beyond_reach"].sum())
        for kinds in (["gaussian", "same-noise"], ["best"]):
            table = comparison_table(board, kinds)
            c = comps[comps["kind"].isin(kinds)]
            alike = (c["column"] != "acr") & (c["n10"] == 0) & (c["n01"] == 0)
            c = c[~alike]  # the page leaves out comparisons of rows that certify alike
            for cells, rec in zip(table.rows, c.itertuples(index=False), strict=True):
                assert cells[0].text == rec.kind
                for cell, beyond in ((cells[5], rec.row_beyond_reach),
                                     (cells[6], rec.other_beyond_reach)):  # fmt: skip
                    assert cell.text.endswith(MARK) == beyond
                    assert (cell.cls == "beyond") == beyond
            assert (MARK in table.caption) == bool(
                c["row_beyond_reach"].any() or c["other_beyond_reach"].any()
            )
    assert flagged > 0
    checked = 0
    # each JSON entry says the same of its own row at each radius
    for entry in json_entries(report).values():
        for comparisons in entry.get("significance", {}).values():
            for column, c in comparisons.items():
                radius = {"acr": -np.inf, "clean": 0.0}.get(column)
                if radius is None:
                    radius = float(column.removeprefix("cert@"))
                assert c["beyond_reach"]["row"] == (radius > entry["reach"])
                checked += c["beyond_reach"]["row"]
    assert checked > 0


def test_a_mark_against_a_reference_beyond_its_reach_says_so(tmp_path):
    """Laplace (matched to sigma 0.25) reaches farther against l1 than the Gaussian
    reference row (0.758 against 0.616 with N = 1000 draws at alpha = 0.001): at r = 0.7,
    on images all at the ceiling, its 100% against the reference's 0% is a significant
    mark that shows the reference's draws, not a better noise, so the mark carries the
    reference-beyond-reach mark in every format, and only there."""
    from reports.significance import MARK_REF_BEYOND, MARK_UP_G

    gauss, laplace = Gaussian(0.25, DIM), noise_class("laplace").matched(0.25, DIM)
    with _store(tmp_path, [gauss, laplace], np.full(40, N), ["cohen", "wulff"]) as store:
        settings = ReportSettings(radii={"l1": (0.0, 0.5, 0.7)})
        report = build_report(load_outcomes(store), manifest=store.manifest(),
                              specs=store.noise_specs(), settings=settings)  # fmt: skip
    board = next(b for b in report.boards if b.norm == "l1")
    rows = {r.noise: r for r in board.rows}
    lap, ref = rows[laplace.name], rows[gauss.name]
    assert ref.reach < 0.7 < lap.reach
    marked = {col: m for (key, col), m in board.marks.items() if key == lap.key}
    assert marked["cert@0.7"].startswith(MARK_UP_G + MARK_REF_BEYOND)
    assert all(MARK_REF_BEYOND not in m for col, m in marked.items() if col != "cert@0.7")
    table = main_table(board)
    col = table.header.index("r=0.7")
    (cells,) = [c for r, c in zip(board.rows, table.rows, strict=True) if r is lap]
    assert MARK_REF_BEYOND in cells[col].text
    assert r"$^{\S}$" in board_table(board, 0.05)


def test_the_comparison_tables_leave_out_rows_that_certify_alike(tmp_path):
    """Two Gaussians with every image at the ceiling certify the same images at every
    radius both reach: those comparisons (p = 1, no discordant image) are left out of the
    page's tables and counted in the caption; the columns carry the main table's titles."""
    small, large = Gaussian(0.25, DIM), Gaussian(0.3, DIM)
    with _store(tmp_path, [small, large], np.full(40, N), ["cohen"]) as store:
        settings = ReportSettings(radii={"l2": (0.0, 0.5, 0.7)})
        report = build_report(load_outcomes(store), manifest=store.manifest(),
                              specs=store.noise_specs(), settings=settings)  # fmt: skip
    board = next(b for b in report.boards if b.norm == "l2")
    table = comparison_table(board, ["best"])
    comps = board.comparisons[board.comparisons["kind"] == "best"]
    alike = comps[(comps["column"] != "acr") & (comps["n10"] == 0) & (comps["n01"] == 0)]
    assert len(alike) == 2  # clean and r = 0.5: both rows certify all 40 images
    assert len(table.rows) == len(comps) - 2
    assert f"{len(alike)} accuracy comparisons in which both rows certify the same" in (
        table.caption
    )
    assert {row[1].text for row in table.rows} == {"r=0.7", "ACR"}


def test_the_gap_within_reach_is_the_largest_there(tmp_path):
    """Images at the ceiling and below it: beyond the small row's reach the gap is the
    draws'; the headline quotes the largest gap of the radii both rows reach, and the note
    the larger one beyond."""
    small, large = Gaussian(0.25, DIM), Gaussian(0.3, DIM)
    tops = np.r_[np.full(30, N), np.full(10, 995)]
    with _store(tmp_path, [small, large], tops, ["cohen"]) as store:
        settings = ReportSettings(radii={"l2": (0.0, 0.3, 0.55, 0.7)})
        report = build_report(load_outcomes(store), manifest=store.manifest(),
                              specs=store.noise_specs(), settings=settings)  # fmt: skip
    board = next(b for b in report.boards if b.norm == "l2")
    rows = {r.noise: r for r in board.rows}
    a, b = rows[large.name], rows[small.name]
    h = compare_rows(board, a, b)
    assert h.short is not None and h.short.gap[0] == 0.7
    gaps = {r: a.certified(r).mean() - b.certified(r).mean() for r in (0.0, 0.3, 0.55)}
    r_in = max(gaps, key=lambda r: abs(gaps[r]))
    assert gaps[r_in] != 0 and abs(gaps[r_in]) < h.short.gap[1] - h.short.gap[2]
    assert h.radius == r_in and h.value - h.other_value == pytest.approx(gaps[r_in])


def test_compare_says_when_the_radius_is_beyond_a_rows_reach(tmp_path):
    from reports.discordant import compare_rows_by_image

    small, large = Gaussian(0.25, DIM), Gaussian(0.3, DIM)
    with _store(tmp_path, [small, large], np.full(10, N), ["cohen"]):
        pass
    path = tmp_path / "s.sqlite"
    first, second = ("m", "gaussian(sigma=0.3)", "cohen"), ("m", "gaussian(sigma=0.25)", "cohen")
    table, summary = compare_rows_by_image(path, first, second, "l2", 0.7)
    expected = 0.25 * ndtri(ALPHA ** (1 / N))
    assert f"r = 0.7 is beyond the second row's reach, {expected:.4g}" in summary
    assert "first row's reach" not in summary and len(table) == 10
    _, summary = compare_rows_by_image(path, first, second, "l2", 0.6)
    assert "reach" not in summary


def test_a_certifier_that_fails_at_the_ceiling_costs_only_its_reach(plugins):
    from certifiers.base import Certifier

    class Broken(Certifier):
        def supports(self, noise, norm):
            return True

        def _radius(self, noise, p, norm):
            raise RuntimeError("no radius here")

    class NotANumber(Broken):
        def _radius(self, noise, p, norm):
            return np.full(np.shape(p), np.nan)

    plugins.certifier("test-broken", Broken)
    plugins.certifier("test-nan", NotANumber)
    spec = Gaussian(0.25, DIM).spec()
    for name in ("test-broken", "test-nan"):
        assert reach([name], "l2", ALPHA, N, spec) is None
        assert reach(["cohen", name], "l2", ALPHA, N, spec) is None
    assert reach(["cohen"], "l2", ALPHA, N, spec) == pytest.approx(0.25 * ndtri(ALPHA ** (1 / N)))


@pytest.mark.parametrize(
    "manifest,draws",
    [({"n": 10_000}, 10_000), ({}, None), ({"n": None}, None), ({"n": True}, None),
     ({"n": 0}, None), ({"n": "10000"}, None)],
)  # fmt: skip
def test_the_runs_draws_are_read_from_the_manifest_only_when_a_positive_count(manifest, draws):
    assert run_draws(manifest) == draws


def test_the_envelope_marks_radii_beyond_every_sigmas_reach(tmp_path):
    """Best over sigma0: a radius is beyond the envelope's reach only when it is beyond
    the reach of each model's row; the table marks exactly those cells and the plot
    puts one triangle at the farthest reach."""
    from reports.envelope import envelope
    from reports.plots import envelope_figure
    from reports.view import envelope_table

    store = new_store(tmp_path / "s.sqlite", 20, {"m": 0.25, "m2": 0.5})
    labels = np.arange(20) % 10
    for model, sigma in (("m", 0.25), ("m2", 0.5)):
        add_counts(store, model, Gaussian(sigma, DIM), labels, labels, np.full(20, N))
    certify_store(store, ["cohen"], ["l2"], [ALPHA], progress=False)
    settings = ReportSettings(radii={"l2": (0.0, 0.5, 1.0, 1.5)})
    report = build_report(load_outcomes(store), manifest=store.manifest(),
                          specs=store.noise_specs(), settings=settings)  # fmt: skip
    store.close()
    (board,) = report.boards
    (e,) = envelope(board)
    farthest = 0.5 * ndtri(ALPHA ** (1 / N))  # 1.23: the sigma = 0.5 row's reach
    assert e.reach == pytest.approx(farthest, rel=1e-12)
    table = envelope_table(board)
    texts = [cell.text for cell in table.rows[0][2:]]
    # r = 1.0 lies beyond sigma 0.25's reach (0.616) but not beyond sigma 0.5's
    assert texts == ["100.0 (σ0=0.25)", "100.0 (σ0=0.25)", "100.0 (σ0=0.5)", f"0.0 {MARK}"]
    fig, _ = envelope_figure(board)
    marks = [line for line in fig.axes[0].get_lines() if line.get_gid() == REACH_MARKER]
    assert [tuple(m.get_xdata()) for m in marks] == [(e.reach,)]
    plt.close(fig)


@given(
    values=st.lists(
        st.floats(-1.0, 1.0, allow_nan=False).filter(lambda v: v == 0 or abs(v) > 1e-12),
        min_size=1,
        max_size=3,
    )
)
def test_acr_differences_show_two_significant_digits_and_no_negative_zero(values):
    """The headline's ACR difference and interval: differences of 1e-4 were "-0.0000"."""
    from reports.headline import _places, _signed

    places = _places(*values)
    largest = max(abs(v) for v in values)
    for v in values:
        text = _signed(v, places)
        assert not text.startswith("-0.") or float(text) != 0.0
        assert abs(float(text) - v) <= 0.5 * 10.0**-places + 1e-15
    if 0 < largest < 0.01:
        assert float(_signed(largest, places)) != 0.0
        assert abs(float(_signed(largest, places)) - largest) <= 0.05 * largest + 1e-15


def test_radii_option_sets_every_norms_grid_or_one_norms():
    from reports.settings import ReportSettings, ReportSettingsError

    base = ReportSettings()
    both = base.override(radii=["0.5", "l2=0.25,1", "linf=0.01"])
    assert both.radii["l2"] == (0.0, 0.25, 1.0) and both.radii["linf"] == (0.0, 0.01)
    assert both.radii["l1"] == (0.0, 0.5)
    assert base.override(radii=[0.3]).radii == {n: (0.0, 0.3) for n in ("l1", "l2", "linf")}
    only = base.override(radii=["linf=0.004"])
    assert only.radii["linf"] == (0.0, 0.004) and only.radii["l2"] == base.radii["l2"]
    with pytest.raises(ReportSettingsError, match="unknown norm 'l3'"):
        base.override(radii=["l3=0.1"])
    with pytest.raises(ReportSettingsError, match="radii are numbers, or NORM=R,R"):
        base.override(radii=["l2=0.1,x"])


def test_a_grid_beyond_every_rows_reach_is_warned_of(tmp_path):
    """One grid for every norm: its l-inf radii (0.25, 0.5) lie far beyond the Gaussian's
    l-inf reach (0.616 / sqrt(64) = 0.077 with N = 1000 draws), where every row reads 0;
    the report says so for that board only."""
    from reports.cli import make_report

    with _store(tmp_path, [Gaussian(0.25, DIM)], np.full(20, N), ["cohen"]):
        pass
    report, _ = make_report(tmp_path / "s.sqlite", radii=["0.25", "0.5"])
    (line,) = [w for w in report.warnings if "beyond the reach of every row" in w]
    assert "linf" in line and "(0.25, 0.5)" in line and "--radii linf=R,R,..." in line
    report, _ = make_report(tmp_path / "s.sqlite", radii=["0.25", "0.5", "linf=0.05"])
    assert not [w for w in report.warnings if "beyond the reach of every row" in w]


def test_the_unreached_grid_warning_needs_every_radius_beyond_every_reach():
    from reports.reach import unreached_grid_warning

    reaches = [0.5, 0.6]
    assert unreached_grid_warning("b", "l2", (0.0, 0.1, 0.9), reaches) is None  # 0.1 reached
    assert unreached_grid_warning("b", "l2", (0.0, 0.6), reaches) is None  # at the reach
    line = unreached_grid_warning("b", "l2", (0.0, 0.7, 0.9), reaches)
    assert line is not None and "(0.7, 0.9)" in line and "at most 0.6" in line
    assert unreached_grid_warning("b", "l2", (0.0, 0.7), [0.5, None]) is None  # deterministic
