"""Leaderboards, significance marks and the headline, on synthetic stores with known
answers."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats as sps
from statsmodels.stats.contingency_tables import mcnemar as sm_mcnemar

from certifiers.base import Certifier
from harness.certify import certify_store
from harness.noise import Gaussian
from reports import significance as sig
from reports import stats
from reports.headline import headline
from reports.leaderboard import DEFAULT_RADII, build_report, noise_label, resolve_radii
from reports.tidy import load_outcomes
from tests.reports._report_synth import ALPHA, DIM, TestGG, add_counts, new_store, winner_store

ALL_MARKS = set("▲▼△▽★☆≈")
RADII = {"l2": [0.0, 0.25, 0.5]}


class Scaled(Certifier):
    """``factor`` x Cohen's l2 radius, on Gaussian noise (a test-only certifier)."""

    factor = 2.0
    families = (Gaussian,)

    def supports(self, noise, norm):
        return isinstance(noise, self.families) and norm == "l2"

    def _radius(self, noise, p, norm):
        return self.factor * noise.sigma * sps.norm.ppf(p)


@pytest.fixture
def register(plugins):
    def reg(name, factor=2.0, families=(Gaussian,)):
        cls = type(f"T_{name}", (Scaled,), {"factor": factor, "families": families})
        cls.name = name
        plugins.certifier(name, cls)

    return reg


def report_of(store, **kw):
    return build_report(
        load_outcomes(store), manifest=store.manifest(), specs=store.noise_specs(), **kw
    )


def marks_of(table, model):
    row = table[table["model"] == model].iloc[0]
    return {c.split(":", 1)[1]: row[c] for c in table.columns if c.startswith("marks:")}


def test_known_winner_is_marked_and_only_it(tmp_path):
    with winner_store(tmp_path / "s.sqlite") as store:
        report = report_of(store, radii=RADII)
    (board,) = report.boards
    table = board.table
    assert table["rank"].tolist() == [1, 2, 3] and table["model"].iloc[0] == "m-win"
    win = marks_of(table, "m-win")
    for metric, mark in win.items():
        assert mark == sig.MARK_BEST, (metric, mark)
    for model in ("m-mid", "m-low"):
        assert not any(set(m) & ALL_MARKS for m in marks_of(table, model).values())


def test_numbers_intervals_and_bounds_by_hand(tmp_path):
    with winner_store(tmp_path / "s.sqlite") as store:
        out = load_outcomes(store)
        report = report_of(store, radii=RADII)
    table = report.boards[0].table.set_index("model")
    for model, g in out.groupby("model"):
        row = table.loc[model]
        n = len(g)
        assert row["n_test"] == n == 200
        for r, col in ((0.0, "clean"), (0.25, "cert@0.25"), (0.5, "cert@0.5")):
            k = int((g["correct"] & (g["radius"] >= r)).sum())
            assert row[col] == k / n
            assert row[f"{col}_lo"] <= k / n <= row[f"{col}_hi"]
            assert (row[f"{col}_lo"], row[f"{col}_hi"]) == pytest.approx(
                stats.wilson_interval(k, n)
            )
        assert row["acr"] == pytest.approx(np.mean(g["radius"] * g["correct"]))
        assert row["abstain"] == pytest.approx(np.mean(g["prediction"] < 0))
        n_cert = int((g["prediction"] >= 0).sum())
        assert row["false_cert_bound"] == sps.binom.ppf(0.95, n_cert, ALPHA)
    assert report.footnotes["n_test"] == 200 and report.footnotes["seed"] == 7
    assert len(report.footnotes["index_set_sha256"]) == 64


def test_rows_that_cannot_be_separated_are_not_starred(tmp_path):
    store = new_store(tmp_path / "s.sqlite", 200, {"a": 0.25, "b": 0.25})
    labels = np.arange(200) % 10
    noise = Gaussian(0.25, DIM)
    pred_b = labels.copy()
    pred_b[:2] = (labels[:2] + 1) % 10  # b misses two images a gets right
    add_counts(store, "a", noise, labels, labels, [990] * 200)
    add_counts(store, "b", noise, labels, pred_b, [990] * 200)
    certify_store(store, ["cohen"], ["l2"], [ALPHA], progress=False)
    with store:
        table = report_of(store, radii=RADII).boards[0].table
    a, b = marks_of(table, "a"), marks_of(table, "b")
    assert a["clean"] == sig.MARK_BEST_TIED and b["clean"] == sig.MARK_TIED
    assert sig.MARK_BEST not in "".join(a.values()) + "".join(b.values())


@pytest.mark.parametrize(("factor", "mark"), [(2.0, sig.MARK_UP), (0.5, sig.MARK_DOWN)])
def test_marks_against_the_same_noise_reference(tmp_path, register, factor, mark):
    register("test-scaled", factor)
    with winner_store(tmp_path / "s.sqlite") as store:
        certify_store(store, ["test-scaled"], ["l2"], [ALPHA], progress=False)
        board = report_of(store, radii=RADII).boards[0]
    t = board.table
    scaled = t[(t["certifier"] == "test-scaled") & (t["model"] == "m-win")].iloc[0]
    assert scaled["ref_same_noise"] == sig.row_label(("m-win", Gaussian(0.25, DIM).name, "cohen"))
    assert mark in scaled["marks:cert@0.5"]
    assert scaled["marks:clean"] in ("", sig.MARK_TIED, sig.MARK_BEST_TIED)  # same predictions
    cohen_marks = "".join(t.loc[t["certifier"] == "cohen", [c for c in t if "marks:" in c]].sum())
    assert not set(cohen_marks) & {sig.MARK_UP, sig.MARK_DOWN}
    comps = board.comparisons
    same = comps[comps["kind"] == sig.SAME_NOISE]
    assert len(same) == 3 * 4  # three models x (3 radii + ACR)
    assert (same["p_bh"] >= same["p"] - 1e-15).all()
    assert (same["p_holm"] >= same["p_bh"] - 1e-15).all()


def test_gaussian_baseline_for_another_noise(tmp_path, register, plugins):
    plugins.noise("test_gg", TestGG)
    register("test-gg-only", 1.0, (TestGG,))
    store = new_store(tmp_path / "s.sqlite", 200, {"m": 0.25})
    labels = np.arange(200) % 10
    wrong = (labels + 1) % 10
    rng = np.random.default_rng(0)
    g_pred = np.where(rng.random(200) < 0.6, labels, wrong)
    add_counts(store, "m", Gaussian(0.25, DIM), labels, g_pred, [900] * 200)
    add_counts(store, "m", Gaussian(0.5, DIM), labels, g_pred, [900] * 200)  # not matched
    add_counts(store, "m", TestGG(0.25, DIM), labels, labels, [990] * 200)
    certify_store(store, ["cohen", "test-gg-only"], ["l2"], [ALPHA], progress=False)
    with store:
        board = report_of(store, radii=RADII).boards[0]
    gg_key = ("m", TestGG(0.25, DIM).name, "test-gg-only")
    assert board.refs[gg_key] == {sig.GAUSSIAN: ("m", Gaussian(0.25, DIM).name, "cohen")}
    row = board.table[board.table["certifier"] == "test-gg-only"].iloc[0]
    assert sig.MARK_UP_G in row["marks:clean"] and sig.MARK_UP_G in row["marks:cert@0.25"]
    assert sig.MARK_UP not in row["marks:clean"]


def test_headline_states_both_tests(tmp_path):
    with winner_store(tmp_path / "s.sqlite") as store:
        out = load_outcomes(store)
        board = report_of(store, radii=RADII).boards[0]
    h = headline(board)
    assert h.row[0] == "m-win" and h.other[0] == "m-mid"
    assert "runner-up" in h.relation and "reference-certifier row" in h.relation
    # recompute the paired and unpaired tests at the quoted radius, independently
    cert = {
        m: (
            g.sort_values("image")["correct"] & (g.sort_values("image")["radius"] >= h.radius)
        ).to_numpy()
        for m, g in out.groupby("model")
    }
    x, y = cert["m-win"], cert["m-mid"]
    b, c = int(np.sum(x & ~y)), int(np.sum(~x & y))
    assert (h.n10, h.n01) == (b, c)
    table = [[np.sum(x & y), b], [c, np.sum(~x & ~y)]]
    assert h.p_exact == pytest.approx(sm_mcnemar(table, exact=True).pvalue)
    k, n = min(b, c), b + c
    midp = (2 * sum(math.comb(n, i) for i in range(k + 1)) - math.comb(n, k)) / 2**n
    assert h.p_midp == pytest.approx(min(1.0, midp), rel=1e-9)
    assert h.p_holm >= h.p_midp and h.family_size == 3
    assert h.significant
    for needle in ("McNemar", "mid-p", "exact p", "Holm", "Unpaired two-proportion z-test"):
        assert needle in h.text
    assert f"{100 * x.mean():.1f}%" in h.text


def test_headline_compares_with_the_reference_row(tmp_path, register):
    register("test-scaled", 2.0)
    with winner_store(tmp_path / "s.sqlite") as store:
        certify_store(store, ["test-scaled"], ["l2"], [ALPHA], progress=False)
        board = report_of(store, radii=RADII).boards[0]
    h = headline(board)
    assert h.row == ("m-win", Gaussian(0.25, DIM).name, "test-scaled")
    assert h.other == ("m-win", Gaussian(0.25, DIM).name, "cohen")
    assert "same model and noise" in h.relation


def test_radius_grid_precedence():
    cfg = {"report": {"radii": {"l2": [0.5, 0.1]}}}
    assert resolve_radii(["l2"], [0.3], cfg) == {"l2": [0.0, 0.3]}
    assert resolve_radii(["l2"], None, cfg) == {"l2": [0.0, 0.1, 0.5]}
    assert resolve_radii(["linf"], None, cfg) == {"linf": list(DEFAULT_RADII["linf"])}
    with pytest.raises(ValueError):
        resolve_radii(["l2"], [-1.0])


def test_unknown_reference_is_refused(tmp_path):
    with winner_store(tmp_path / "s.sqlite") as store:
        with pytest.raises(ValueError, match="reference certifier"):
            report_of(store, reference="cohn")


def test_noise_label_drops_the_dimension():
    assert noise_label("gaussian(dim=64,sigma=0.25)") == "gaussian(sigma=0.25)"
    assert noise_label("gg(dim=3072,k=10,sigma=0.5)") == "gg(k=10,sigma=0.5)"


def test_single_row_board(tmp_path):
    store = new_store(tmp_path / "s.sqlite", 30, {"a": 0.25})
    labels = np.arange(30) % 10
    add_counts(store, "a", Gaussian(0.25, DIM), labels, labels, [990] * 30)
    certify_store(store, ["cohen"], ["l2"], [ALPHA], progress=False)
    with store:
        board = report_of(store, radii=RADII).boards[0]
    assert board.comparisons.empty and not board.marks
    assert "nothing to compare" in headline(board).text


def test_headline_tests_the_best_challenger_when_a_reference_row_wins(monkeypatch):
    """When a reference (Gaussian, cohen) row has the best ACR, the headline is the claim a
    paper would make: the best row on another noise against its model's Gaussian row."""
    from reports import significance as sig
    from reports.headline import headline

    class FakeData:
        keys = [("m", "gauss", "cohen"), ("m", "lap", "wulff"), ("m", "gauss", "other")]
        acr = {keys[0]: 0.5, keys[1]: 0.4, keys[2]: 0.49}
        images = list(range(10))

        def value(self, key, column, default):
            return self.acr[key]

    class FakeBoard:
        data = FakeData()
        reference = "cohen"
        refs = {FakeData.keys[1]: {sig.GAUSSIAN: FakeData.keys[0]}}

    seen = {}

    def fake_compare(board, row, other, relation, level):
        seen.update(row=row, other=other)
        return "compared"

    import reports.headline as hl

    monkeypatch.setattr(hl, "compare_rows", fake_compare)
    assert headline(FakeBoard()) == "compared"
    assert seen == {"row": ("m", "lap", "wulff"), "other": ("m", "gauss", "cohen")}
