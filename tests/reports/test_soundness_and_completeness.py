"""The report's soundness gate and honest n, end to end through ``make_report``:

- a too-generous plugin certifier registered through the entry point is marked unsound
  in every row and kept out of the headline, on Gaussian noise (above the closed-form
  optimum) and on Laplace noise (caught by the Monte Carlo Neyman-Pearson check at the
  data's dimension);
- a store from an interrupted run warns at the top of every output and states each row's
  n; the headline states the n it used.
"""

from __future__ import annotations

from importlib.metadata import EntryPoint

import numpy as np
import pytest
from scipy import stats as sps

from certifiers.base import Certifier
from certifiers.registry import CERTIFIERS
from harness.certify import certify_store
from harness.noise import Gaussian, Laplace
from reports import stats
from reports.cli import make_report, write_report
from reports.sanity import FAIL, PASS, SKIPPED, SanityContext
from smoothbench import registry as generic
from tests.reports._report_synth import ALPHA, DIM, add_counts, new_store, winner_store


class TwiceCohen(Certifier):
    """A deliberately unsound plugin: twice Cohen's radius on Gaussian noise."""

    def supports(self, noise, norm):
        return isinstance(noise, Gaussian) and norm == "l2"

    def _radius(self, noise, p, norm):
        return 2.0 * noise.sigma * sps.norm.ppf(p)


class ThriceLaplace(Certifier):
    """A deliberately unsound plugin: three times the Laplace l1 radius -b ln(2(1-p))."""

    def supports(self, noise, norm):
        return isinstance(noise, Laplace) and norm == "l1"

    def _radius(self, noise, p, norm):
        return -3.0 * noise.scale * np.log(2.0 * (1.0 - p))


@pytest.fixture
def entry_point_plugin(monkeypatch):
    """Register ``TwiceCohen`` as ``twice-cohen`` through the entry-point group."""
    ep = EntryPoint(name="twice-cohen", value=f"{__name__}:TwiceCohen", group="x")
    monkeypatch.setattr(
        generic, "entry_points", lambda group: [ep] if group == CERTIFIERS.group else []
    )
    CERTIFIERS.load_plugins(force=True)
    yield "twice-cohen"
    CERTIFIERS.unregister("twice-cohen")


def test_an_unsound_plugin_is_marked_and_never_headlines(tmp_path, entry_point_plugin):
    path = tmp_path / "s.sqlite"
    with winner_store(path) as store:
        certify_store(store, ["twice-cohen"], ["l2"], [ALPHA], progress=False)
    report, headlines = make_report(path)
    gate = next(c for c in report.sanity if c.name == "soundness")
    assert gate.status == FAIL and "twice-cohen" in gate.summary
    assert any("Gaussian optimum" in d for d in gate.details)
    (board,) = report.boards
    bad = [r for r in board.rows if "twice-cohen" in r.certifiers]
    assert bad and all(r.key in board.unsound for r in bad)
    table = board.table
    assert (
        table.loc[table["certifiers"] == "twice-cohen", "sanity"].str.contains("soundness")
    ).all()
    assert (table.loc[table["certifiers"] == "cohen", "sanity"] == "ok").all()
    # unsound rows rank after the sound ones of their model, with no significance mark
    for model in ("m-win", "m-mid", "m-low"):
        t = table[table["model"] == model]
        bad_rank = t.loc[t["certifiers"] == "twice-cohen", "rank"].item()
        assert bad_rank == 2 and t.loc[t["certifiers"] == "cohen", "rank"].item() == 1
    assert not any(key in board.unsound for key, _ in board.marks)
    # without the gate twice-cohen would have the best ACR of every model; it is left out
    (h,) = headlines
    assert "twice-cohen" not in h.row.certifiers and "twice-cohen" not in h.other.certifiers
    assert any("failed the soundness check" in text for _, text in h.lines())
    written = write_report(report, headlines, tmp_path / "out", ["md", "html", "latex"])
    md = (tmp_path / "out" / "leaderboard.md").read_text()
    assert "UNSOUND" in md and "sanity check failed: soundness" in md
    tex = (tmp_path / "out" / "leaderboard.tex").read_text()
    assert tex.count(r"twice-cohen \textbf{unsound}") == 3
    assert any(p.name == "leaderboard.html" for p in written)


def test_the_monte_carlo_gate_catches_a_non_gaussian_plugin(tmp_path, plugins):
    plugins.certifier("thrice-laplace", ThriceLaplace)
    path = tmp_path / "s.sqlite"
    store = new_store(path, 80, {"m": 0.25})
    labels = np.arange(80) % 10
    add_counts(store, "m", Gaussian(0.25, DIM), labels, labels, [995] * 80)
    add_counts(store, "m", Laplace.matched(0.25, DIM), labels, labels, [995] * 80)
    certify_store(store, ["cohen", "wulff", "thrice-laplace"], ["l1"], [ALPHA], progress=False)
    store.close()
    report, _ = make_report(path)
    gate = next(c for c in report.sanity if c.name == "soundness")
    assert gate.status == FAIL and gate.summary.startswith("unsound: thrice-laplace")
    assert any("thrice-laplace: UNSOUND" in d and "shift" in d for d in gate.details)
    assert any(d.startswith("wulff:") and "passed" in d for d in gate.details)


def test_an_interrupted_store_warns_everywhere_and_states_n(tmp_path):
    path = tmp_path / "s.sqlite"
    store = new_store(path, 200, {"a": 0.25, "b": 0.25})
    labels = np.arange(200) % 10
    noise = Gaussian(0.25, DIM)
    add_counts(store, "a", noise, labels[:100], labels[:100], [990] * 100)
    add_counts(store, "b", noise, labels[:29], labels[:29], [990] * 29)
    certify_store(store, ["cohen"], ["l2"], [ALPHA], progress=False)
    store.close()
    report, headlines = make_report(path)
    gap = "sampling incomplete: a: 100 of 200 images, b: 29 of 200"
    assert report.warnings and report.warnings[0].startswith(gap)
    table = report.boards[0].table.set_index("model")
    assert table.loc["a", "n"] == 100 and table.loc["b", "n"] == 29
    assert headlines[0].n == 29  # the images both rows share
    out = tmp_path / "out"
    write_report(report, headlines, out, ["md", "html", "csv", "latex"])
    for name in ("leaderboard.md", "appendix.md", "leaderboard.html"):
        text = (out / name).read_text()
        first = text[: text.find("<main>") + 600] if name.endswith("html") else text[:800]
        assert gap in first, name
    assert "| 29 " in (out / "leaderboard.md").read_text()  # the row's n column


def test_imported_rows_and_published_numbers_join_the_report(tmp_path):
    """Rows imported from another codebase (no counts) are compared image by image with
    the run's rows; published numbers stand beside the lined-up row with the unpaired
    test and its power at the paper's n."""
    from harness.store import ImportedRow
    from reports.published import compare_published, unpaired_power

    path = tmp_path / "s.sqlite"
    store = new_store(path, 100, {"m": 0.25})
    labels = np.arange(100) % 10
    noise = Gaussian(0.25, DIM)
    predicted = np.where(np.arange(100) < 70, labels, (labels + 1) % 10)  # 70% right
    add_counts(store, "m", noise, labels, predicted, [990] * 100)
    certify_store(store, ["cohen"], ["l2"], [ALPHA], progress=False)
    ours = store.query("SELECT image, radius FROM certificates WHERE certifier = 'cohen'")
    store.put_imported(
        [
            ImportedRow("synthetic", "m", noise.name, "cohen", "l2", ALPHA, int(i), int(i % 10),
                        int(i % 10), float(r) * (0.5 if i < 30 else 1.0), True, 1.0, "x.tsv")
            for i, r in ours
        ]
    )  # fmt: skip
    store.close()
    record = {
        "paper": "P", "table": "T", "dataset": "synthetic", "norm": "l2", "method": "M",
        "noise": "gaussian", "sigma": 0.25, "model": "m", "radii": [0.25], "n_images": 500,
        "certified_accuracy": [50.0],
    }  # fmt: skip
    report, headlines = make_report(path, published=[record])
    (board,) = report.boards
    imported = [r for r in board.rows if r.kind == "imported"]
    assert len(imported) == 1 and imported[0].n == 100
    ref = board.refs[imported[0].key]["same-noise"]
    assert ref.kind == "smoothing" and "cohen" in ref.certifiers
    (c,) = compare_published(board, [record])
    assert c.row is ref and c.reported == 0.5
    assert c.ours == pytest.approx(float(ref.certified(0.25).mean())) == pytest.approx(0.7)
    assert c.power == pytest.approx(_fleiss_power(0.5, c.ours, 500, 100, 0.05), rel=1e-9)
    (strict,) = compare_published(board, [record], level=0.01)  # power at the report's level
    assert strict.power == pytest.approx(_fleiss_power(0.5, c.ours, 500, 100, 0.01), rel=1e-9)
    assert strict.power < c.power
    assert unpaired_power(0.5, c.ours, 500, 100) == c.power
    # an imported certificate is a Monte Carlo one made elsewhere at the board's alpha
    false_cert, ctx = board.column("false_cert"), board.context
    n_cert = int((~imported[0].abstained).sum())
    assert (
        false_cert.value(imported[0], ctx)
        == stats.false_certificate_bound(
            imported[0].n, ALPHA, 0.95, shared=imported[0].confidence_spent, issued=n_cert
        )
        == false_cert.value(ref, ctx)
        > 0
    )
    written = write_report(report, headlines, tmp_path / "out", ["md"])
    md = next(p for p in written if p.name == "leaderboard.md").read_text()
    assert "(imported)" in md and "**Published numbers**" in md
    (h,) = headlines  # the claim is among the run's rows; the imported one is in the table
    assert h.row.kind == "smoothing" and (h.other is None or h.other.kind == "smoothing")
    scope = dict(h.lines()).get("Scope", "")
    assert "the imported rows (certified by other code)" in scope and "base network" not in scope


def test_an_unsound_reference_never_headlines_nor_ranks_best(tmp_path, entry_point_plugin):
    """With an unsound certifier as the reference, the headline compares the best sound
    row with the runner-up, not with its unsound reference row; and no unsound row is the
    best of a column or a row the best is tested against (its values are not
    certificates)."""
    from reports import significance as sig

    path = tmp_path / "s.sqlite"
    with winner_store(path) as store:
        certify_store(store, ["twice-cohen"], ["l2"], [ALPHA], progress=False)
    report, (h,) = make_report(path, reference="twice-cohen")
    (board,) = report.boards
    unsound = board.unsound
    assert len(unsound) == 3 and all("twice-cohen" in k[2] for k in unsound)
    assert board.refs[h.row.key][sig.SAME_NOISE].key in unsound  # what it used to take
    assert h.row.key not in unsound and h.other.key not in unsound
    assert h.row.model == "m-win" and h.other.model == "m-mid"
    assert "its reference row failed the soundness check" in h.relation
    best = board.comparisons[board.comparisons["kind"] == sig.BEST]
    assert not best.empty
    assert not (best["row"].isin(unsound) | best["other"].isin(unsound)).any()
    for key in unsound:
        for column in board.columns:
            mark = board.marks.get((key, column.key), "")
            assert not set(mark) & {sig.MARK_BEST, sig.MARK_BEST_TIED, sig.MARK_TIED}


def test_rows_that_share_no_image_are_reported_without_a_comparison(tmp_path):
    """Two models run on disjoint images: the headline's runner-up shares no image with
    the best row; the report says so instead of failing."""
    from dataclasses import replace

    from tests.reports._report_synth import count_rows

    path = tmp_path / "s.sqlite"
    store = new_store(path, 100, {"a": 0.25, "b": 0.25})
    noise = Gaussian(0.25, DIM)
    store.put_noises({noise.name: noise.spec()})
    labels = np.arange(50) % 10
    for model, first, top in (("a", 0, 995), ("b", 50, 900)):
        rows = count_rows(model, noise, labels, labels, [top] * 50)
        store.put_counts([replace(r, image=r.image + first) for r in rows])
    certify_store(store, ["cohen"], ["l2"], [ALPHA], progress=False)
    store.close()
    report, (h,) = make_report(path)
    assert {h.row.model, h.other.model} == {"a", "b"} and h.n == 0
    assert report.boards[0].marks == {}  # nothing was tested, so nothing is marked
    assert ("Largest gap", "the two rows share no image: no comparison") in h.lines()
    write_report(report, [h], tmp_path / "out", ["md", "html"])
    md = (tmp_path / "out" / "leaderboard.md").read_text()
    assert "the two rows share no image: no comparison" in md


class InflatedLaplace(Certifier):
    """The exact Laplace l1 radius ``-b ln(2(1-p))`` times ``factor(p)``."""

    @staticmethod
    def factor(p):
        return 1.0

    def supports(self, noise, norm):
        return isinstance(noise, Laplace) and norm == "l1"

    def _radius(self, noise, p, norm):
        return self.factor(p) * -noise.scale * np.log(2.0 * (1.0 - p))


@pytest.mark.parametrize(
    "name,factor",
    [
        ("two-percent", lambda p: 1.02 + 0 * p),
        ("only-below-0.7", lambda p: np.where(p < 0.7, 3.0, 1.0)),
    ],
)
def test_the_gate_catches_a_small_or_partial_inflation(tmp_path, plugins, name, factor):
    """A Laplace certifier 2% above the exact radius, or 3x above it only where p_A < 0.7
    (below the median: the largest and the median p_A alone would not show it), fails
    the gate; the exact radius (wulff) passes it at the same stored p_A."""
    plugins.certifier(name, type(name, (InflatedLaplace,), {"factor": staticmethod(factor)}))
    path = tmp_path / "s.sqlite"
    store = new_store(path, 120, {"m": 0.25})
    labels = np.arange(120) % 10
    tops = np.random.default_rng(0).integers(600, 1000, 120)
    add_counts(store, "m", Laplace.matched(0.25, DIM), labels, labels, tops)
    certify_store(store, ["wulff", name], ["l1"], [ALPHA], progress=False)
    store.close()
    from reports.sanity import SanityInputs
    from reports.sanity.soundness import Soundness

    inputs = SanityInputs.from_store(path)
    p = inputs.outcomes["p_lower"]
    assert 0.1 < float(((p > 0.5) & (p < 0.7)).mean()) < 0.4 and p.median() > 0.7
    gate = Soundness().run(inputs, SanityContext())
    assert gate.status == FAIL and gate.summary.startswith(f"unsound: {name};")
    assert any(d.startswith("wulff:") and "passed" in d for d in gate.details)


def test_the_gate_skips_a_store_with_nothing_certified(tmp_path):
    path = tmp_path / "s.sqlite"
    store = new_store(path, 40, {"m": 0.25})
    labels = np.arange(40) % 10
    add_counts(store, "m", Laplace.matched(0.25, DIM), labels, labels, [400] * 40)
    certify_store(store, ["wulff"], ["l1"], [ALPHA], progress=False)
    store.close()
    from reports.sanity import SanityInputs
    from reports.sanity.soundness import Soundness

    gate = Soundness().run(SanityInputs.from_store(path), SanityContext())
    assert gate.status == SKIPPED and gate.summary.startswith("nothing checked")


class TwiceOnL2(Certifier):
    """Cohen's radius against l1 (sound, and equal to Cohen's), twice it against l2
    (unsound)."""

    def supports(self, noise, norm):
        return isinstance(noise, Gaussian) and norm in ("l1", "l2")

    def _radius(self, noise, p, norm):
        return (2.0 if norm == "l2" else 1.0) * noise.sigma * sps.norm.ppf(p)


def test_a_report_filtered_to_another_norm_still_marks_an_unsound_certifier(tmp_path, plugins):
    plugins.certifier("twice-on-l2", TwiceOnL2)
    path = tmp_path / "s.sqlite"
    with winner_store(path) as store:
        certify_store(store, ["cohen", "twice-on-l2"], ["l1", "l2"], [ALPHA], progress=False)
    report, (h,) = make_report(path, norms=["l1"])
    (board,) = report.boards
    assert board.norm == "l1"
    gate = next(c for c in report.sanity if c.name == "soundness")
    assert gate.status == FAIL and "twice-on-l2" in gate.summary
    marked = [r for r in board.rows if "twice-on-l2" in r.certifiers]
    assert marked and all(r.key in board.unsound for r in marked)
    # equal to Cohen's on l1, it is not merged into Cohen's row, which stays sound
    assert all(r.certifiers == ("twice-on-l2",) for r in marked)
    cohen = [r for r in board.rows if "cohen" in r.certifiers]
    assert len(cohen) == 3 and not any(r.key in board.unsound for r in cohen)
    assert h.row is not None and h.other is not None
    assert "twice-on-l2" not in h.row.certifiers + h.other.certifiers


def test_the_gate_still_checks_a_full_dimensional_noise_at_cifar_size(tmp_path):
    """A law with no reduced form (l-inf radial, ExpInf) at d = 3072 costs 3072 values a
    draw: it is checked at the smallest, median and largest p_A with MIN_SAMPLES draws,
    not left out as beyond the budget."""
    from harness.noise import noise_class
    from reports.sanity import SanityInputs
    from reports.sanity.soundness import Soundness

    noise = noise_class("exp_inf").matched(0.25, 3072, k=1.0, j=0.0)
    path = tmp_path / "s.sqlite"
    store = new_store(path, 20, {"m": 0.25})
    labels = np.arange(20) % 10
    add_counts(store, "m", noise, labels, labels, np.linspace(700, 990, 20).astype(int))
    certify_store(store, ["wulff"], ["linf"], [ALPHA], progress=False)
    store.close()
    gate = Soundness().run(SanityInputs.from_store(path), SanityContext())
    assert gate.status == PASS, gate.summary
    assert "beyond the budget" not in gate.summary
    assert "wulff: 6 Neyman-Pearson checks passed" in gate.details


def test_the_gate_in_parallel_pieces_says_what_one_pass_says(tmp_path, plugins, monkeypatch):
    """The gate runs one piece per noise over the cores: in any order and over two
    worker processes its result (lines in report order included) is the same, and each
    unsound certifier is caught on its own noise."""
    from harness.noise import noise_class
    from reports.parallel import run_all
    from reports.sanity import SanityInputs, run_checks
    from reports.sanity.soundness import Soundness

    plugins.certifier("thrice-laplace", ThriceLaplace)
    plugins.certifier("twice-on-l2", TwiceOnL2)
    path = tmp_path / "s.sqlite"
    store = new_store(path, 60, {"m": 0.25, "m2": 0.5})
    labels = np.arange(60) % 10
    tops = np.random.default_rng(1).integers(600, 1000, 60)
    for model, sigma in (("m", 0.25), ("m2", 0.5)):
        for noise in (Gaussian(sigma, DIM), Laplace.matched(sigma, DIM),
                      noise_class("uniform_cube").matched(sigma, DIM)):  # fmt: skip
            add_counts(store, model, noise, labels, labels, tops)
    certs = ["cohen", "wulff", "thrice-laplace", "twice-on-l2"]
    certify_store(store, certs, ["l1", "l2"], [ALPHA], progress=False)
    store.close()
    inputs, ctx = SanityInputs.from_store(path), SanityContext()
    gate = Soundness()
    parts = gate.parts(inputs, ctx)
    assert len(parts) == 6  # one per noise: three families on two models
    one_pass = gate.run(inputs, ctx)
    assert one_pass.status == FAIL
    assert one_pass.summary.startswith("unsound: thrice-laplace, twice-on-l2;")
    assert gate.combine([p() for p in reversed(parts)], inputs, ctx) == one_pass
    monkeypatch.setenv("SMOOTHBENCH_WORKERS", "2")
    (parallel,) = (c for c in run_checks(inputs, ctx, run=run_all) if c.name == "soundness")
    assert parallel == one_pass
    unsound = {row[5] for row in one_pass.affected}
    assert unsound == {"thrice-laplace", "twice-on-l2"}
    # every p_A that fails gets its line (the details show five a certifier), not one a row
    laplace_lines = [d for d in one_pass.details if d.startswith("thrice-laplace: UNSOUND: m |")]
    assert len(laplace_lines) == 5
    assert len({line.split(" at p_A = ")[1] for line in laplace_lines}) == 5


def test_the_gaussian_optimum_is_cohens_radius_in_each_norm():
    """``sigma Phi^{-1}(p)`` against l2 and l1, that over ``sqrt(d)`` against l-inf
    (scipy's normal quantile, not the certifiers'); no optimum for another law."""
    from reports.sanity.soundness import gaussian_optimum

    p = np.array([0.6, 0.9, 0.999])
    l2 = 0.25 * sps.norm.ppf(p)
    noise = Gaussian(0.25, DIM)
    np.testing.assert_allclose(gaussian_optimum(noise, p, "l2"), l2, rtol=1e-14)
    np.testing.assert_allclose(gaussian_optimum(noise, p, "l1"), l2, rtol=1e-14)
    np.testing.assert_allclose(gaussian_optimum(noise, p, "linf"), l2 / np.sqrt(DIM), rtol=1e-14)
    assert gaussian_optimum(Laplace(0.25, DIM), p, "l1") is None


@pytest.mark.parametrize(
    ("norm", "scale", "sound"),
    [
        ("l2", 1.0, True),
        ("l2", 1 + 1e-6, False),  # a millionth above the optimum
        ("linf", 1 / np.sqrt(DIM), True),
        ("linf", 1.0, False),  # the l2 radius claimed against l-inf: sqrt(d) too large
    ],
)
def test_the_gate_holds_gaussian_rows_to_the_optimum(tmp_path, norm, scale, sound):
    from reports.sanity import SanityInputs
    from reports.sanity.soundness import Soundness
    from tests.reports._report_synth import copy_certificates

    path = tmp_path / "s.sqlite"
    with winner_store(path) as store:

        def radius(p, spec, nm):
            return scale * spec["params"]["sigma"] * sps.norm.ppf(p)

        copy_certificates(store, "cohen", "test-claimed", radius)
        store.query("UPDATE certificates SET norm = ? WHERE certifier = 'test-claimed'", (norm,))
        store._db.commit()
    gate = Soundness().run(SanityInputs.from_store(path), SanityContext())
    claimed = {row for row in gate.affected if row[5] == "test-claimed"}
    if sound:
        assert gate.status == PASS and not claimed
    else:
        assert gate.status == FAIL and gate.summary.startswith("unsound: test-claimed;")
        assert {row[1] for row in claimed} == {norm}


def _fleiss_power(p1: float, p2: float, n1: int, n2: int, level: float) -> float:
    """The pooled two-proportion z-test's power by Fleiss' normal approximation, by hand:
    the pooled standard error under the null, the unpooled one under the alternative."""
    from scipy.stats import norm

    pooled = (n1 * p1 + n2 * p2) / (n1 + n2)
    null = (pooled * (1 - pooled) * (1 / n1 + 1 / n2)) ** 0.5
    alt = (p1 * (1 - p1) / n1 + p2 * (1 - p2) / n2) ** 0.5
    z = norm.isf(level / 2)
    gap = abs(p1 - p2)
    return float(norm.cdf((gap - z * null) / alt) + norm.cdf((-gap - z * null) / alt))
