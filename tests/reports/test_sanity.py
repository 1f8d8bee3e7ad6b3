"""reports.sanity: every check's skipped, pass and fail paths, on synthetic stores.

The certifiers and noise families the checks look for in a full run (functional,
fdiv-hockey-stick, generalized_gaussian) are stood in for by test-only ones, registered
under test names for the duration of a test only.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats as sps

from certifiers.base import Certifier
from harness.certify import certify_store
from harness.noise import Gaussian
from harness.store import CertificateRow
from reports.leaderboard import build_report
from reports.sanity import FAIL, PASS, SKIPPED, SanityInputs, run_checks
from reports.tidy import load_outcomes
from tests.reports._report_synth import (
    ALPHA,
    DIM,
    TestGG,
    add_counts,
    cohen_by_hand,
    copy_certificates,
    missing_first,
    new_store,
    put_rows,
    winner_store,
)

ABSENT = {"functional": "test-absent-functional", "hockey_stick": "test-absent-hs"}


class CohenLike(Certifier):
    """Cohen's formula times ``factor`` (1: right; otherwise deliberately wrong)."""

    factor = 1.0

    def supports(self, noise, norm):
        return isinstance(noise, Gaussian | TestGG)

    def _radius(self, noise, p, norm):
        r = self.factor * noise.sigma * sps.norm.ppf(p)
        return r / np.sqrt(noise.dim) if norm == "linf" else r


@pytest.fixture
def register(plugins):
    """Register a test-only certifier (a fresh subclass) for this test only."""

    def reg(name: str, factor: float = 1.0):
        cls = type(f"Test_{name}", (CohenLike,), {"factor": factor})
        cls.name = name
        plugins.certifier(name, cls)
        return cls

    return reg


@pytest.fixture
def gg_family(plugins):
    plugins.noise("test_gg", TestGG)
    return "test_gg"


def checks(store, **names):
    return {c.name: c for c in run_checks(SanityInputs.from_store(store), **{**ABSENT, **names})}


def test_skipped_with_reasons_when_inputs_absent(tmp_path):
    with winner_store(tmp_path / "s.sqlite") as store:
        res = checks(store, gg_family="test-absent-gg")
    for name in ("corollary-1", "corollary-2", "hockey-stick"):
        assert res[name].status == SKIPPED
        assert "not registered" in res[name].summary
    assert res["matched-variance"].status == SKIPPED
    assert "no 'test-absent-gg' certificates" in res["matched-variance"].summary
    assert res["monotone"].status == PASS
    assert res["reproducible"].status == PASS
    assert all(r.line().startswith(f"[{r.status.upper()}]") for r in res.values())


def test_corollary_1_pass_on_stored_rows(tmp_path):
    with winner_store(tmp_path / "s.sqlite") as store:
        copy_certificates(store, "cohen", "test-functional", cohen_by_hand)
        res = checks(store, functional="test-functional")
    c1 = res["corollary-1"]
    assert c1.status == PASS, c1.summary
    assert c1.max_diff < 1e-12
    assert "largest difference" in c1.summary
    assert res["corollary-2"].status == SKIPPED  # only l2 rows were written


def test_corollary_1_fail_marks_the_rows(tmp_path):
    with winner_store(tmp_path / "s.sqlite") as store:
        wrong = lambda p, spec, norm: 1.01 * cohen_by_hand(p, spec, norm)  # noqa: E731
        copy_certificates(store, "cohen", "test-functional", wrong)
        res = checks(store, functional="test-functional")
        c1 = res["corollary-1"]
        assert c1.status == FAIL
        assert c1.max_diff > 1e-3
        assert {row[5] for row in c1.affected} == {"test-functional"}
        assert {row[3] for row in c1.affected} == {"m-win", "m-mid", "m-low"}
        report = build_report(
            load_outcomes(store),
            manifest=store.manifest(),
            specs=store.noise_specs(),
            sanity=list(res.values()),
        )
    table = report.boards[0].table
    bad = table[table["certifiers"] == "test-functional"]
    good = table[table["certifiers"] == "cohen"]
    # 1.01 x Cohen is also above the Gaussian optimum: the soundness gate flags it too;
    # test-functional is not registered, so its radii cannot be reproduced here either
    assert (bad["sanity"] == "fail: corollary-1, soundness; unchecked: reproducible").all()
    assert (good["sanity"] == "ok").all()


def test_corollary_2_linf_pass_and_fail(tmp_path):
    with winner_store(tmp_path / "s.sqlite") as store:
        certify_store(store, ["cohen"], ["linf"], [ALPHA], progress=False)
        copy_certificates(store, "cohen", "test-functional", cohen_by_hand, norm="linf")
        no_sqrt_d = lambda p, spec, norm: cohen_by_hand(p, spec, "l2")  # noqa: E731
        copy_certificates(store, "cohen", "test-functional-bad", no_sqrt_d, norm="linf")
        good = checks(store, functional="test-functional")["corollary-2"]
        bad = checks(store, functional="test-functional-bad")["corollary-2"]
    assert good.status == PASS and good.max_diff < 1e-12
    assert bad.status == FAIL
    assert {row[1] for row in bad.affected} == {"linf"}


def test_recomputed_from_counts_when_no_rows_are_stored(tmp_path, register):
    register("test-functional-good", 1.0)
    register("test-functional-bad", 1.05)
    with winner_store(tmp_path / "s.sqlite") as store:
        good = checks(store, functional="test-functional-good")
        bad = checks(store, functional="test-functional-bad")
    for name in ("corollary-1", "corollary-2"):
        assert good[name].status == PASS, good[name].summary
        assert "recomputed from the stored counts" in good[name].summary
        assert bad[name].status == FAIL
        assert not bad[name].affected  # no leaderboard row to mark
    assert bad["corollary-1"].max_diff > 0.01


def test_hockey_stick_every_stored_norm(tmp_path):
    with winner_store(tmp_path / "s.sqlite") as store:
        certify_store(store, ["cohen"], ["linf"], [ALPHA], progress=False)
        copy_certificates(store, "cohen", "test-hs", cohen_by_hand)
        res = checks(store, hockey_stick="test-hs")["hockey-stick"]
    assert res.status == PASS
    assert any("| l2 |" in d for d in res.details) and any("| linf |" in d for d in res.details)


def test_monotone_fail_on_a_decreasing_certifier(tmp_path):
    with winner_store(tmp_path / "s.sqlite") as store:
        copy_certificates(store, "cohen", "test-decreasing", lambda p, s, n: 2.0 - p)
        res = checks(store)["monotone"]
    assert res.status == FAIL
    assert {row[5] for row in res.affected} == {"test-decreasing"}
    assert res.max_diff > 0


def test_monotone_fails_a_drop_of_one_millionth(tmp_path):
    """Radii at increasing p_lower that fall by 1e-6 of themselves once: not round-off
    (the check allows 1e-9), a certifier that is not monotone."""
    with winner_store(tmp_path / "s.sqlite") as store:
        copy_certificates(store, "cohen", "test-dip", cohen_by_hand)
        rows = store.query(
            "SELECT model, noise, image, norm, alpha, prediction, p_lower, radius, correct"
            " FROM certificates WHERE certifier = 'test-dip' AND model = 'm-win'"
            " AND radius > 0 ORDER BY p_lower"
        )
        ps = [row[6] for row in rows]
        i = next(i for i in range(1, len(rows)) if ps.count(ps[i]) == 1 and ps[i - 1] < ps[i])
        m, nz, img, norm, alpha, pred, p, _, correct = rows[i]
        dipped = rows[i - 1][7] * (1 - 1e-6)  # under the radius at the next lower p_lower
        put_rows(store, [CertificateRow(m, nz, img, "test-dip", norm, alpha, pred, p, dipped,
                                        bool(correct), 0.0)])  # fmt: skip
        res = checks(store)["monotone"]
    assert res.status == FAIL
    assert {row[5] for row in res.affected} == {"test-dip"}


def test_monotone_fail_on_a_registered_certifier_between_stored_points(tmp_path, register):
    # a radius function that is non-monotone only between the stored p values
    cls = register("test-wiggly")
    cls._radius = lambda self, noise, p, norm: 0.1 + 0.05 * np.sin(200 * p)
    with winner_store(tmp_path / "s.sqlite") as store:
        certify_store(store, ["test-wiggly"], ["l2"], [ALPHA], progress=False)
        res = checks(store)["monotone"]
    assert res.status == FAIL
    assert all(row[5] == "test-wiggly" for row in res.affected)


TAMPERINGS = {
    "radius by 0.1": lambda pred, r, correct: (pred, r + 0.1, correct),
    "radius by 1e-6 of it": lambda pred, r, correct: (pred, r * (1 + 1e-6), correct),
    "prediction": lambda pred, r, correct: ((pred + 1) % 10, r, correct),
    "correctness": lambda pred, r, correct: (pred, r, not correct),
}


@pytest.mark.parametrize("what", TAMPERINGS)
def test_reproducible_fails_on_one_tampered_certificate(tmp_path, what):
    """One certificate of 600 changed, by a little: the check fails its row."""
    with winner_store(tmp_path / "s.sqlite") as store:
        rows = store.table_rows("certificates")
        (m, nz, img, cert, norm, alpha, pred, p, r, correct, spent) = next(
            row for row in rows if row[8] > 0
        )
        pred, r, correct = TAMPERINGS[what](pred, r, bool(correct))
        store.put_certificates(
            [CertificateRow(m, nz, img, cert, norm, alpha, pred, p, r, correct, spent)]
        )
        res = checks(store)["reproducible"]
    assert res.status == FAIL
    assert res.affected == {("synthetic", norm, alpha, m, nz, cert)}


def _variance_store(path, gg_sigma, register):
    register("test-gg-cert")
    store = new_store(path, 120, {"m": 0.25})
    labels = np.arange(120) % 10
    add_counts(store, "m", Gaussian(0.25, DIM), labels, labels, [900] * 120)
    add_counts(store, "m", TestGG(gg_sigma, DIM), labels, labels, [950] * 120)
    certify_store(store, ["cohen", "test-gg-cert"], ["l2"], [ALPHA], progress=False)
    return store


def test_matched_variance_pass_explains_the_gain(tmp_path, register, gg_family):
    with _variance_store(tmp_path / "s.sqlite", 0.25, register) as store:
        res = checks(store, gg_family=gg_family)["matched-variance"]
    assert res.status == PASS, res.summary
    (detail,) = res.details
    assert "mean p_A" in detail and "radius at the same p_A" in detail
    # same law, same radius function: the whole gain comes from the higher p_A
    assert "+0.0000 (radius at the same p_A)" in detail


def test_matched_variance_splits_the_gain_on_the_gaussians_correct_images(
    tmp_path, register, gg_family
):
    """The counterfactual is the other noise's radius at the Gaussian's p_A on the images
    the *Gaussian* row gets right: with the same law and radius function, it equals the
    Gaussian's score, whatever images the other row gets wrong (30 of 120 here)."""
    register("test-gg-cert")
    store = new_store(tmp_path / "s.sqlite", 120, {"m": 0.25})
    labels = np.arange(120) % 10
    missed = missing_first(labels, 30)
    add_counts(store, "m", Gaussian(0.25, DIM), labels, labels, [900] * 120)
    add_counts(store, "m", TestGG(0.25, DIM), labels, missed, [950] * 120)
    certify_store(store, ["cohen", "test-gg-cert"], ["l2"], [ALPHA], progress=False)
    with store:
        res = checks(store, gg_family=gg_family)["matched-variance"]
    (detail,) = res.details
    assert "+0.0000 (radius at the same p_A)" in detail


def test_matched_variance_fails_a_gaussian_one_percent_off(tmp_path, register, gg_family):
    """sigma 0.25 x 1.005: E||z||^2 1% above the Gaussian's is not the matched control."""
    with _variance_store(tmp_path / "s.sqlite", 0.25 * 1.005, register) as store:
        mv = checks(store, gg_family=gg_family)["matched-variance"]
    assert mv.status == FAIL and "no Gaussian control" in mv.details[0]


def test_matched_variance_fail_without_a_matched_gaussian(tmp_path, register, gg_family):
    with _variance_store(tmp_path / "s.sqlite", 0.3, register) as store:
        res = checks(store, gg_family=gg_family)
        mv = res["matched-variance"]
        assert mv.status == FAIL
        assert {row[4] for row in mv.affected} == {TestGG(0.3, DIM).name}
        report = build_report(
            load_outcomes(store),
            manifest=store.manifest(),
            specs=store.noise_specs(),
            sanity=list(res.values()),
        )
    table = report.boards[0].table
    on_gg = table["noise"] == TestGG(0.3, DIM).name
    assert (table.loc[on_gg, "sanity"] == "fail: matched-variance").all()
    assert (table.loc[~on_gg, "sanity"] == "ok").all()


def test_framework_integral_pass_and_fail(tmp_path, monkeypatch):
    """Corollary 1 without the closed form: the l2 framework's integral at k = 0 against
    Cohen at the stored p_lower; a 1e-4 error in the integral must fail the check."""
    from certifiers.functional import l2 as functional_l2
    from reports.sanity import check_framework_integral

    with winner_store(tmp_path / "s.sqlite") as store:
        inputs = SanityInputs.from_store(store)
    res = check_framework_integral(inputs, points=4)
    assert res.status == PASS, res.summary
    assert res.max_diff < 1e-6
    real = functional_l2.radius_direct
    monkeypatch.setattr(functional_l2, "radius_direct", lambda *a, **k: real(*a, **k) * (1 + 1e-4))
    bad = check_framework_integral(inputs, points=4)
    assert bad.status == FAIL and bad.max_diff > 5e-5


class MonteCarloCohen(CohenLike):
    """Cohen's formula, declared to spend Monte Carlo confidence (its radius is then not
    recomputed by ``reproducible``; its p_lower, prediction and correctness still are)."""

    def confidence_spent(self, noise, norm):
        return 1e-6


def test_reproducible_fails_on_a_tampered_p_lower_of_a_monte_carlo_certifier(tmp_path, plugins):
    plugins.certifier("test-mc-cohen", MonteCarloCohen)
    with winner_store(tmp_path / "s.sqlite") as store:
        certify_store(store, ["test-mc-cohen"], ["l2"], [ALPHA], progress=False)
        rows = [r for r in store.table_rows("certificates") if r[3] == "test-mc-cohen"]
        (m, nz, img, cert, norm, alpha, pred, p, r, correct, spent) = rows[0]
        assert spent == 1e-6
        clean = checks(store)["reproducible"]
        store.put_certificates(
            [CertificateRow(m, nz, img, cert, norm, alpha, pred, 0.999, r, True, spent)]
        )
        res = checks(store)["reproducible"]
    assert clean.status == PASS and "radii of test-mc-cohen" in clean.summary
    assert res.status == FAIL and "p_lower" in res.details[0]
    assert res.affected == {("synthetic", norm, alpha, m, nz, cert)}


@pytest.mark.parametrize("factor", [1 + 1e-6, 0.99])
def test_framework_table_above_or_far_below_cohen_fails(tmp_path, monkeypatch, factor):
    """The cached table the certifier uses for k != 0, built at k = 0: a table 1e-6 above
    Cohen (unsound) or 1% below (a wrong table) fails; the real one passes."""
    from certifiers.functional import l2 as functional_l2
    from reports.sanity import check_framework_integral

    with winner_store(tmp_path / "s.sqlite") as store:
        inputs = SanityInputs.from_store(store)
    assert check_framework_integral(inputs, points=9).status == PASS
    real = functional_l2.radius_table

    def scaled(k, dim):
        table = real(k, dim)
        return lambda p: np.asarray(table(p)) * factor

    monkeypatch.setattr(functional_l2, "radius_table", scaled)
    bad = check_framework_integral(inputs, points=9)
    assert bad.status == FAIL and any("the table gives" in d for d in bad.details)


@pytest.mark.parametrize("factor", [1 + 1e-5, 1 - 1e-5])
def test_corollary_1_fails_on_a_difference_of_1e_5(tmp_path, factor):
    """The tolerance is far below a 1e-5 relative error in either direction (the
    hockey-stick certifier's root finding, the loosest, is within 1e-9 of Cohen)."""
    with winner_store(tmp_path / "s.sqlite") as store:
        off = lambda p, spec, norm: factor * cohen_by_hand(p, spec, norm)  # noqa: E731
        copy_certificates(store, "cohen", "test-functional", off)
        res = checks(store, functional="test-functional")
    assert res["corollary-1"].status == FAIL
    assert 5e-6 < res["corollary-1"].max_diff < 1e-4


def test_the_audit_check_names_stored_certifiers_it_does_not_cover(tmp_path):
    """An audit of cohen, then wulff certified on the same store: the check passes for
    what it audited and says that wulff was not audited (it said 'every cell passed')."""
    from harness.store import AuditRow

    with winner_store(tmp_path / "s.sqlite") as store:
        store.put_audit(
            [AuditRow("statistical", "cohen", "gaussian(dim=3,sigma=0.5)", "l2", "linear",
                      100, 1, 0.2, 0.0, 0.5, 0.31, 0.4, True, {"quick": True})]
        )  # fmt: skip
        before = checks(store)["audit"]
        certify_store(store, ["wulff"], ["l2"], [ALPHA], progress=False)
        after = checks(store)["audit"]
    assert before.status == PASS and "not audited" not in before.summary
    assert after.status == PASS and after.summary.endswith("; not audited: wulff")


def test_corollary_1_fails_a_group_where_one_image_differs(tmp_path):
    """One wrong radius among a row's 200 fails the row, not only a row wrong everywhere."""
    with winner_store(tmp_path / "s.sqlite") as store:
        first = store.query(
            "SELECT MIN(image) FROM certificates WHERE model = 'm-win' AND radius > 0"
        )[0]
        copy_certificates(store, "cohen", "test-functional", cohen_by_hand)
        row = store.query(
            "SELECT model, noise, image, norm, alpha, prediction, p_lower, correct FROM"
            " certificates WHERE certifier = 'test-functional' AND image = ? AND model = 'm-win'",
            first,
        )[0]
        model, noise, image, norm, alpha, pred, p, correct = row
        radius = 1.01 * cohen_by_hand(p, store.noise_specs()[noise], norm)
        put_rows(store, [CertificateRow(model, noise, image, "test-functional", norm, alpha,
                                        pred, p, radius, bool(correct), 0.0)])  # fmt: skip
        c1 = checks(store, functional="test-functional")["corollary-1"]
    assert c1.status == FAIL
    assert {row[3] for row in c1.affected} == {"m-win"}
    assert any(f"1 of 200 images differ; worst image {image}" in d for d in c1.details)


def test_recomputed_radii_fail_when_any_noise_differs(tmp_path, plugins):
    """Recomputed from the counts: a certifier wrong at sigma 0.25 and right at 0.5 fails
    (the count of differing radii is summed over every noise, not the last one's)."""

    class WrongAtQuarter(CohenLike):
        def _radius(self, noise, p, norm):
            return super()._radius(noise, p, norm) * (1.05 if noise.sigma == 0.25 else 1.0)

    WrongAtQuarter.name = "test-quarter"
    plugins.certifier("test-quarter", WrongAtQuarter)
    store = new_store(tmp_path / "s.sqlite", 50, {"m": 0.25})
    labels = np.arange(50) % 10
    for sigma in (0.25, 0.5):  # the store's order: sigma=0.25 first, then 0.5
        add_counts(store, "m", Gaussian(sigma, DIM), labels, labels, [995] * 50)
    certify_store(store, ["cohen"], ["l2"], [ALPHA], progress=False)
    with store:
        c1 = checks(store, functional="test-quarter")["corollary-1"]
    assert c1.status == FAIL and "recomputed" in c1.summary
    assert c1.summary.startswith("50 radii differ")  # the 50 images at sigma 0.25, l2


def test_monotone_fails_a_radius_at_p_lower_one_half(tmp_path):
    """At p_lower = 1/2 exactly the smoothed classifier abstains: any radius there is
    wrong, however small (1e-12 here, below every other certified radius)."""
    with winner_store(tmp_path / "s.sqlite") as store:
        copy_certificates(store, "cohen", "test-half", cohen_by_hand)
        model, noise, image, norm, alpha, pred, _, correct = store.query(
            "SELECT model, noise, image, norm, alpha, prediction, p_lower, correct FROM"
            " certificates WHERE certifier = 'test-half' LIMIT 1"
        )[0]
        put_rows(store, [CertificateRow(model, noise, image, "test-half", norm, alpha, pred,
                                        0.5, 1e-12, bool(correct), 0.0)])  # fmt: skip
        res = checks(store)["monotone"]
    assert res.status == FAIL
    assert {row[5] for row in res.affected} == {"test-half"}


def test_a_failed_audit_marks_only_the_rows_of_its_certifier_and_norm(tmp_path):
    """cohen fails its l2 audit and passes its l-inf one: only cohen's l2 rows are
    marked (the l-inf rows passed theirs, and wulff was not audited)."""
    from harness.store import AuditRow

    def cell(norm, passed):  # alpha 0.2, of which a table's confidence spent 0.05 more
        return AuditRow("statistical", "cohen", "gaussian(dim=3,sigma=0.5)", norm, "linear",
                        100, 1, 0.2, 0.05, 0.5, 0.31, 0.4, passed, {})  # fmt: skip

    with winner_store(tmp_path / "s.sqlite") as store:
        certify_store(store, ["cohen"], ["linf"], [ALPHA], progress=False)
        certify_store(store, ["wulff"], ["l2"], [ALPHA], progress=False)
        store.put_audit([cell("l2", False), cell("linf", True)])
        audit = checks(store)["audit"]
    assert audit.status == FAIL and audit.summary.startswith("1 of 2 audit cell(s) failed")
    assert {(row[5], row[1]) for row in audit.affected} == {("cohen", "l2")}
    assert {row[3] for row in audit.affected} == {"m-win", "m-mid", "m-low"}
    assert (
        "cohen (l2): 100 trials, 1 false (0.0100 vs the audit's alpha + spent 0.25,"
        in (audit.details[0])
    )


def test_sanity_csv_gives_each_checks_largest_difference_and_rows(tmp_path):
    """sanity.csv states what the check found: one certificate's radius raised by 0.1 is
    a largest difference of 0.1 from the recomputed radius, on one affected row."""
    import pandas as pd

    from reports.cli import make_report, write_report

    path = tmp_path / "s.sqlite"
    with winner_store(path) as store:
        row = next(r for r in store.table_rows("certificates") if r[8] > 0)
        (m, nz, img, cert, norm, alpha, pred, p, r, correct, spent) = row
        store.put_certificates(
            [CertificateRow(m, nz, img, cert, norm, alpha, pred, p, r + 0.1, correct, spent)]
        )
    report, heads = make_report(path)
    write_report(report, heads, tmp_path / "out", ["csv"])
    table = pd.read_csv(tmp_path / "out" / "sanity.csv").set_index("check")
    found = {c.name: c for c in report.sanity}
    assert table.loc["reproducible", "status"] == FAIL
    assert table.loc["reproducible", "max_diff"] == pytest.approx(0.1, rel=1e-9)
    assert table.loc["reproducible", "affected_rows"] == 1
    for name, check in found.items():
        assert table.loc[name, "affected_rows"] == len(check.affected)
        assert table.loc[name, "unchecked_rows"] == len(check.unchecked)
