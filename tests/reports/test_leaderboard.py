"""Leaderboards, significance marks and the headline, on synthetic stores with known
answers."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats as sps
from statsmodels.stats.contingency_tables import mcnemar as sm_mcnemar

from harness.certify import certify_store
from harness.noise import Gaussian, noise_families
from reports import significance as sig
from reports import stats
from reports.headline import headline
from reports.labels import noise_label
from reports.leaderboard import build_report
from reports.settings import DEFAULT_RADII, ReportSettings, ReportSettingsError
from reports.tidy import load_outcomes
from reports.view import main_table
from tests.reports._report_synth import (
    ALPHA,
    DIM,
    ScaledCohen,
    TestGG,
    add_counts,
    missing_first,
    new_store,
    winner_store,
)

ALL_MARKS = set("▲▼△▽★☆≈")
SETTINGS = ReportSettings(radii={"l2": (0.0, 0.25, 0.5)})


Scaled = ScaledCohen


@pytest.fixture
def register(plugins):
    def reg(name, factor=2.0, families=(Gaussian,)):
        cls = type(f"T_{name}", (Scaled,), {"factor": factor, "families": families})
        cls.name = name
        plugins.certifier(name, cls)

    return reg


def report_of(store, settings=SETTINGS, **kw):
    return build_report(
        load_outcomes(store),
        manifest=store.manifest(),
        specs=store.noise_specs(),
        settings=settings,
        **kw,
    )


def marks_of(table, model):
    row = table[table["model"] == model].iloc[0]
    return {c.split(":", 1)[1]: row[c] for c in table.columns if c.startswith("marks:")}


def test_known_winner_is_marked_and_only_it(tmp_path):
    with winner_store(tmp_path / "s.sqlite") as store:
        report = report_of(store)
    (board,) = report.boards
    table = board.table
    assert table["rank"].tolist() == [1, 1, 1]  # one row per model, ranked within it
    assert sorted(table["model"]) == ["m-low", "m-mid", "m-win"]
    win = marks_of(table, "m-win")
    for metric, mark in win.items():
        assert mark == sig.MARK_BEST, (metric, mark)
    for model in ("m-mid", "m-low"):
        assert not any(set(m) & ALL_MARKS for m in marks_of(table, model).values())


def test_numbers_intervals_and_bounds_by_hand(tmp_path):
    with winner_store(tmp_path / "s.sqlite") as store:
        out = load_outcomes(store)
        report = report_of(store)
    table = report.boards[0].table.set_index("model")
    for model, g in out.groupby("model"):
        row = table.loc[model]
        n = len(g)
        assert row["n"] == n == 200
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
        assert row["false_cert"] == sps.binom.ppf(0.95, n_cert, ALPHA)
    assert report.footnotes["n_test"] == 200 and report.footnotes["seed"] == 7
    assert len(report.footnotes["index_set_sha256"]) == 64


def test_rows_that_cannot_be_separated_are_not_starred(tmp_path):
    store = new_store(tmp_path / "s.sqlite", 200, {"a": 0.25, "b": 0.25})
    labels = np.arange(200) % 10
    noise = Gaussian(0.25, DIM)
    pred_b = missing_first(labels, 2)  # b misses two images a gets right
    add_counts(store, "a", noise, labels, labels, [990] * 200)
    add_counts(store, "b", noise, labels, pred_b, [990] * 200)
    certify_store(store, ["cohen"], ["l2"], [ALPHA], progress=False)
    with store:
        table = report_of(store).boards[0].table
    a, b = marks_of(table, "a"), marks_of(table, "b")
    assert a["clean"] == sig.MARK_BEST_TIED and b["clean"] == sig.MARK_TIED
    assert sig.MARK_BEST not in "".join(a.values()) + "".join(b.values())


def test_every_row_equal_to_the_best_gets_the_best_mark(tmp_path):
    """Rows tied exactly with the best value are the best as much as the one ranked first
    by the tie-break: each gets the hollow star, and only the row below gets "≈" (one of
    26 equal rows was starred, the rest marked as if below it)."""
    store = new_store(tmp_path / "s.sqlite", 200, {"a": 0.25, "b": 0.25, "c": 0.25})
    labels = np.arange(200) % 10
    noise = Gaussian(0.25, DIM)
    pred_b = missing_first(labels, 2)
    for model, pred in (("a", labels), ("b", pred_b), ("c", labels)):
        add_counts(store, model, noise, labels, pred, [990] * 200)
    certify_store(store, ["cohen"], ["l2"], [ALPHA], progress=False)
    with store:
        table = report_of(store).boards[0].table
    assert marks_of(table, "a")["clean"] == marks_of(table, "c")["clean"] == sig.MARK_BEST_TIED
    assert marks_of(table, "b")["clean"] == sig.MARK_TIED


@pytest.mark.parametrize(("factor", "mark"), [(2.0, sig.MARK_UP), (0.5, sig.MARK_DOWN)])
def test_marks_against_the_same_noise_reference(tmp_path, register, factor, mark):
    register("test-scaled", factor)
    with winner_store(tmp_path / "s.sqlite") as store:
        certify_store(store, ["test-scaled"], ["l2"], [ALPHA], progress=False)
        board = report_of(store).boards[0]
    t = board.table
    key = ("m-win", Gaussian(0.25, DIM).name, "test-scaled")
    scaled = t[(t["certifiers"] == "test-scaled") & (t["model"] == "m-win")].iloc[0]
    assert board.refs[key][sig.SAME_NOISE].key == ("m-win", Gaussian(0.25, DIM).name, "cohen")
    assert mark in scaled["marks:cert@0.5"]
    assert scaled["marks:clean"] in ("", sig.MARK_TIED, sig.MARK_BEST_TIED)  # same predictions
    cohen_marks = "".join(t.loc[t["certifiers"] == "cohen", [c for c in t if "marks:" in c]].sum())
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
        board = report_of(store).boards[0]
    gg_key = ("m", TestGG(0.25, DIM).name, "test-gg-only")
    refs = {kind: r.key for kind, r in board.refs[gg_key].items()}
    assert refs == {sig.GAUSSIAN: ("m", Gaussian(0.25, DIM).name, "cohen")}
    row = board.table[board.table["certifiers"] == "test-gg-only"].iloc[0]
    assert sig.MARK_UP_G in row["marks:clean"] and sig.MARK_UP_G in row["marks:cert@0.25"]
    assert sig.MARK_UP not in row["marks:clean"]


def test_headline_states_both_tests(tmp_path):
    with winner_store(tmp_path / "s.sqlite") as store:
        out = load_outcomes(store)
        board = report_of(store).boards[0]
    h = headline(board)
    assert h.row.model == "m-win" and h.other.model == "m-mid"
    assert "runner-up" in h.relation and "reference row" in h.relation
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
    z = stats.two_proportion_ztest(int(x.sum()), len(x), int(y.sum()), len(y))
    assert h.p_unpaired == pytest.approx(z.pvalue)
    labels = [label for label, _ in h.lines()]
    assert labels[:5] == [
        "Claim", "Largest gap", "Paired test (McNemar)",
        "Unpaired test (z-test, as papers report it)", "ACR",
    ]  # fmt: skip
    assert "Power" in labels
    assert f"{100 * x.mean():.1f}%" in h.text
    # the unpaired sample size: the two rows' rates, from statsmodels' power solver
    from statsmodels.stats.power import NormalIndPower
    from statsmodels.stats.proportion import proportion_effectsize

    effect = proportion_effectsize(h.value, h.other_value)
    per_arm = NormalIndPower().solve_power(abs(effect), power=0.8, alpha=0.05)
    assert h.n_unpaired_needed == math.ceil(per_arm)


def test_headline_compares_with_the_reference_row(tmp_path, register):
    register("test-scaled", 2.0)
    with winner_store(tmp_path / "s.sqlite") as store:
        certify_store(store, ["test-scaled"], ["l2"], [ALPHA], progress=False)
        board = report_of(store).boards[0]
    h = headline(board)
    assert h.row.key == ("m-win", Gaussian(0.25, DIM).name, "test-scaled")
    assert h.other.key == ("m-win", Gaussian(0.25, DIM).name, "cohen")
    assert "same model and noise" in h.relation


def test_report_settings_defaults_config_and_overrides():
    cfg = {"report": {"radii": {"l2": [0.5, 0.1]}, "reference": "wulff"}}
    settings = ReportSettings.from_config(cfg)
    assert settings.grid("l2") == [0.0, 0.1, 0.5] and settings.reference == "wulff"
    assert settings.grid("linf") == list(DEFAULT_RADII["linf"])
    assert settings.override(radii=[0.3]).grid("l1") == [0.0, 0.3]
    assert ReportSettings.from_config({}).reference == "cohen"
    for bad, key in (
        ({"radii": {"l2": [-1.0]}}, "report.radii.l2"),
        ({"radii": {"l2": [float("inf")]}}, "report.radii.l2"),
        ({"radii": {"l5": [1.0]}}, "report.radii.l5"),
        ({"reference": ""}, "report.reference"),
        ({"colour": 1}, "report.colour"),
    ):
        with pytest.raises(ReportSettingsError, match=key.replace(".", "\\.")):
            ReportSettings.from_table(bad)


def test_unknown_reference_is_refused(tmp_path):
    with winner_store(tmp_path / "s.sqlite") as store:
        with pytest.raises(ValueError, match="reference certifier"):
            report_of(store, settings=ReportSettings(reference="cohn"))


def test_noise_labels_are_short():
    g = Gaussian(0.25, 64).spec()
    assert noise_label(g, 0.25) == "Gaussian"  # matched to the model's sigma0
    assert noise_label(g, 0.5) == "Gaussian sigma=0.25"
    from harness.noise import GeneralizedGaussian

    gg = GeneralizedGaussian.matched(0.25, 64, k=32.0).spec()
    assert noise_label(gg, 0.25) == "gen. Gaussian k=32"
    assert noise_label(gg, None) == "gen. Gaussian k=32, sigma=0.354"
    # a whole-number parameter reads as an integer, however large
    assert noise_label(GeneralizedGaussian.matched(0.25, 4096, k=1000.0).spec(), 0.25) == (
        "gen. Gaussian k=1000"
    )


def test_noises_of_one_model_that_would_read_alike_take_more_digits():
    """Two rows of one model and certifier whose noises round to one label could not be
    told apart on the board: their labels take the digits that tell them apart, and only
    theirs (another model's board keeps three)."""
    import pandas as pd

    from reports.rows import build_rows

    specs = {
        "a": Gaussian(0.1234, 64).spec(),
        "b": Gaussian(0.1231, 64).spec(),
        "c": Gaussian(0.1234, 64).spec(),
    }
    recs = [
        dict(model=model, noise=noise, family="gaussian", certifier="cohen", image=0, label=0,
             prediction=0,
             p_lower=0.9, radius=0.1, correct=True, abstained=False, confidence_spent=0.0,
             seconds=0.01, kind="smoothing")
        for model, noise in (("m", "a"), ("m", "b"), ("other", "c"))
    ]  # fmt: skip
    rows = build_rows(pd.DataFrame.from_records(recs), specs=specs, sigma0={"m": 0.5})
    labels = {(r.model, r.noise): r.label for r in rows}
    assert labels == {
        ("m", "a"): "Gaussian sigma=0.1234",
        ("m", "b"): "Gaussian sigma=0.1231",
        ("other", "c"): "Gaussian sigma=0.123",
    }


def test_a_noise_label_names_every_shape_parameter():
    from harness.noise import from_spec

    spec = {"family": "exp2", "params": {"dim": 64, "scale": 0.3, "j": 0.5, "k": 2.0}}
    assert noise_label(from_spec(spec).spec(), None) == "Exp2 j=0.5, k=2, scale=0.3"


def test_every_built_in_noise_family_has_its_own_name():
    """Two families under one name would make their rows indistinguishable on a board."""
    from reports.labels import FAMILY_NAMES

    assert set(FAMILY_NAMES) <= set(noise_families())
    assert len(set(FAMILY_NAMES.values())) == len(FAMILY_NAMES)


def test_single_row_board(tmp_path):
    store = new_store(tmp_path / "s.sqlite", 30, {"a": 0.25})
    labels = np.arange(30) % 10
    add_counts(store, "a", Gaussian(0.25, DIM), labels, labels, [990] * 30)
    certify_store(store, ["cohen"], ["l2"], [ALPHA], progress=False)
    with store:
        board = report_of(store).boards[0]
    assert board.comparisons.empty and not board.marks
    assert "a single row" in headline(board).text


def test_headline_tests_the_best_challenger_when_a_reference_row_wins(tmp_path, plugins):
    """When a reference (Gaussian, cohen) row has the best ACR, the headline is the claim a
    paper would make: the best row on another noise against its model's Gaussian row."""
    plugins.noise("test_gg", TestGG)

    class OnTestGG(Scaled):
        factor, families = 0.5, (TestGG,)

    plugins.certifier("test-gg-half", OnTestGG)
    store = new_store(tmp_path / "s.sqlite", 100, {"m": 0.25})
    labels = np.arange(100) % 10
    add_counts(store, "m", Gaussian(0.25, DIM), labels, labels, [995] * 100)
    add_counts(store, "m", TestGG(0.25, DIM), labels, labels, [995] * 100)
    certify_store(store, ["cohen", "test-gg-half"], ["l2"], [ALPHA], progress=False)
    with store:
        board = report_of(store).boards[0]
    h = headline(board)
    assert h.row.key == ("m", TestGG(0.25, DIM).name, "test-gg-half")
    assert h.other.key == ("m", Gaussian(0.25, DIM).name, "cohen")
    assert "best challenger" in h.relation
    # the challenger (half of Cohen's radius) is behind its reference, and the claim says so
    assert h.acr < h.other_acr
    claim = dict(h.lines())["Claim"]
    assert claim.endswith("the first row is behind the second on ACR: no claim that it is better")


def test_a_claim_ahead_on_acr_says_nothing_of_the_kind(tmp_path):
    with winner_store(tmp_path / "s.sqlite") as store:
        h = headline(report_of(store).boards[0])
    assert h.acr > h.other_acr and "no claim" not in dict(h.lines())["Claim"]


def test_certifiers_with_equal_radii_are_one_row(tmp_path, register):
    register("test-twin", 1.0)  # Cohen's radius by another name
    with winner_store(tmp_path / "s.sqlite") as store:
        certify_store(store, ["test-twin"], ["l2"], [ALPHA], progress=False)
        board = report_of(store).boards[0]
    assert len(board.rows) == 3
    assert all(r.certifiers == ("cohen", "test-twin") for r in board.rows)
    assert set(board.table["certifiers"]) == {"cohen = test-twin"}


def test_paired_comparisons_use_the_images_both_rows_share(tmp_path, register):
    """A row with fewer images is compared on the images it shares, and says so."""
    register("test-scaled", 2.0)
    with winner_store(tmp_path / "s.sqlite") as store:
        certify_store(store, ["test-scaled"], ["l2"], [ALPHA], progress=False)
        store.query("DELETE FROM certificates WHERE certifier = 'test-scaled' AND image >= 150")
        store._db.commit()
        board = report_of(store).boards[0]
    c = board.comparisons
    mine = c[c["row"].map(lambda k: k[2]) == "test-scaled"]
    assert not mine.empty and (mine["n"] == 150).all()
    assert (board.table.set_index("certifiers").loc["test-scaled", "n"] == 150).all()
    assert any("150 of the board's 200 images" in n for n in board.notes)


def test_outputs_write_counts_as_integers_and_percentages_without_float_noise(tmp_path):
    """58, not 57.99999999999999 (100 x 0.58); n = 40, not 40.0; and comparisons.csv has
    its header even with no comparison to write."""
    import json

    import pandas as pd

    from harness.certify import certify_store
    from harness.noise import Gaussian
    from reports.cli import make_report, write_report
    from reports.significance import COMPARISON_COLUMNS
    from tests.reports._report_synth import ALPHA, DIM, add_counts, new_store, winner_store

    path = tmp_path / "s.sqlite"
    winner_store(path, n_images=50).close()
    report, headlines = make_report(path)
    out = tmp_path / "out"
    write_report(report, headlines, out, ["json", "csv"])
    for entry in (out / "entries").rglob("*.json"):
        data = json.loads(entry.read_text())
        assert data["n_test"] == 50 and isinstance(data["n_test"], int)
        for value in data["certified_acc"].values():
            assert value == round(value, 6), value  # k / 50 in percent: two decimals at most
    table = pd.read_csv(out / "leaderboard.csv")
    assert table["n"].dtype.kind == "i"
    # one row: nothing to compare, and still a header
    single = tmp_path / "one.sqlite"
    store = new_store(single, 20, {"m": 0.25})
    labels = np.arange(20) % 10
    add_counts(store, "m", Gaussian(0.25, DIM), labels, labels, [990] * 20)
    certify_store(store, ["cohen"], ["l2"], [ALPHA], progress=False)
    store.close()
    report, headlines = make_report(single)
    write_report(report, headlines, tmp_path / "one", ["csv"])
    comparisons = pd.read_csv(tmp_path / "one" / "comparisons.csv")
    assert comparisons.empty
    assert list(comparisons.columns) == ["dataset", "norm", "alpha", *COMPARISON_COLUMNS]


def test_the_page_title_names_the_run(tmp_path):
    from reports.cli import make_report
    from reports.view import build_view

    config = {"run": {"name": "sweep-7"}, "report": {"reference": "cohen"}}
    store = new_store(tmp_path / "s.sqlite", 20, {"m": 0.25}, config=config)
    labels = np.arange(20) % 10
    add_counts(store, "m", Gaussian(0.25, DIM), labels, labels, [990] * 20)
    certify_store(store, ["cohen"], ["l2"], [ALPHA], progress=False)
    store.close()
    report, headlines = make_report(tmp_path / "s.sqlite")
    view = build_view(report, headlines, {}, linked_figures=False)
    assert view.title == "smoothbench leaderboard: sweep-7 (synthetic)"


@pytest.mark.parametrize("held", ["unsound", "unchecked"])
def test_rows_not_known_sound_stay_out_of_the_best_over_sigma0(tmp_path, held):
    """The envelope shows no marks, so a row whose radii are not known to be certificates
    would enter it unflagged: it is left out, as the docs say."""
    from reports.envelope import envelope

    with winner_store(tmp_path / "s.sqlite") as store:
        board = report_of(store).boards[0]
    (before,) = envelope(board)
    assert "m-win" in before.models  # the best model at some radius
    win = next(r for r in board.rows if r.model == "m-win")
    if held == "unsound":
        board.unsound.add(win.key)
    else:
        board.unchecked[win.key] = "its noise family is not registered here"
    (after,) = envelope(board)
    assert "m-win" not in after.models and all(r is not win for r in after.rows)


def test_rows_of_equal_acr_share_a_rank(tmp_path, plugins, register):
    """Two noises with the same law and counts (a Gaussian and a stand-in under another
    family name, certified by Cohen's formula) give the same ACR on a model: both rank 2,
    behind the Gaussian of twice the sigma (larger radii on its 60% right)."""
    plugins.noise("test_gg", TestGG)
    register("test-gg-cohen", 1.0, (TestGG,))
    store = new_store(tmp_path / "s.sqlite", 100, {"m": 0.25})
    labels = np.arange(100) % 10
    wrong = missing_first(labels, 40)
    add_counts(store, "m", Gaussian(0.25, DIM), labels, labels, [990] * 100)
    add_counts(store, "m", TestGG(0.25, DIM), labels, labels, [990] * 100)
    add_counts(store, "m", Gaussian(0.5, DIM), labels, wrong, [990] * 100)
    certify_store(store, ["cohen", "test-gg-cohen"], ["l2"], [ALPHA], progress=False)
    with store:
        table = report_of(store).boards[0].table
    assert table["acr"].nunique() == 2  # two rows alike
    assert sorted(table["rank"].tolist()) == [1, 2, 2]


def test_a_failing_check_other_than_soundness_marks_a_row_but_keeps_it_in(tmp_path):
    """A radius tampered downwards fails the reproducibility (and monotone) checks, not
    soundness: the row is marked, but stays ranked and compared (only unsound rows are
    held out)."""
    from harness.store import CertificateRow
    from reports.sanity import FAIL, SanityInputs, run_checks

    with winner_store(tmp_path / "s.sqlite") as store:
        rows = store.table_rows("certificates")
        m, nz, img, cert, norm, alpha, pred, p, r, correct, spent = next(
            row for row in rows if row[8] > 0 and row[0] == "m-win"
        )
        store.put_certificates(
            [CertificateRow(m, nz, img, cert, norm, alpha, pred, p, 0.9 * r, bool(correct), spent)]
        )
        sanity = run_checks(SanityInputs.from_store(store))
        report = report_of(store, sanity=sanity)
    failed = {c.name for c in sanity if c.status == FAIL}
    assert "reproducible" in failed and "soundness" not in failed
    board = report.boards[0]
    assert not board.unsound
    t = board.table
    assert t.loc[t["model"] == "m-win", "sanity"].item() == "fail: monotone, reproducible"
    assert sig.MARK_BEST in "".join(marks_of(t, "m-win").values())


def test_a_noise_on_one_model_has_no_best_over_sigma0_row(tmp_path):
    """The envelope is a best over several models' sigma0; a noise only one model has is
    its own row of the leaderboard, not an envelope."""
    from reports.envelope import envelope

    with winner_store(tmp_path / "s.sqlite") as store:
        labels = np.arange(200) % 10
        add_counts(store, "m-win", Gaussian(0.5, DIM), labels, labels, [990] * 200)
        certify_store(store, ["cohen"], ["l2"], [ALPHA], progress=False)
        board = report_of(store).boards[0]
    assert any(r.noise == Gaussian(0.5, DIM).name for r in board.rows)
    (only,) = envelope(board)  # the Gaussian matched to each model's sigma0
    assert {r.noise for r in only.rows} == {Gaussian(0.25, DIM).name}


def test_rows_of_equal_acr_share_a_rank_on_the_page_as_in_the_csv(tmp_path, plugins, register):
    """The page's rank column (#) says what leaderboard.csv's rank says: rows of equal ACR
    share a rank (the caption: "#: rank by ACR within the model")."""
    plugins.noise("test_gg", TestGG)
    register("test-gg-cohen", 1.0, (TestGG,))
    store = new_store(tmp_path / "s.sqlite", 100, {"m": 0.25})
    labels = np.arange(100) % 10
    add_counts(store, "m", Gaussian(0.25, DIM), labels, labels, [990] * 100)
    add_counts(store, "m", TestGG(0.25, DIM), labels, labels, [990] * 100)
    add_counts(store, "m", Gaussian(0.5, DIM), labels, missing_first(labels, 40), [990] * 100)
    certify_store(store, ["cohen", "test-gg-cohen"], ["l2"], [ALPHA], progress=False)
    with store:
        board = report_of(store).boards[0]
    acr = np.array([r.score().mean() for r in board.rows])
    # the rank a reader expects: 1 + the number of rows with a larger ACR
    expected = sorted(int(1 + (acr > a).sum()) for a in acr)
    assert sorted(board.table["rank"].tolist()) == expected  # the CSV: [1, 2, 2]
    shown = sorted(int(cells[0].text) for cells in main_table(board).rows)
    assert shown == expected  # the Markdown and HTML tables
