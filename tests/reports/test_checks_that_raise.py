"""A plugin that raises inside a sanity check (its noise's ``log_prob``, its certifier's
radius, a plugin check itself) no longer stops the report with a bare message: the check
says what raised, the rows it could not check are marked, and the report is written."""

from __future__ import annotations

import numpy as np
from scipy import stats as sps

from certifiers.base import Certificate, Certifier
from harness.certify import certify_store
from harness.store import CertificateRow
from reports.cli import make_report
from reports.sanity import FAIL, INCOMPLETE, CheckResult, SanityCheck
from reports.sanity.base import p_lower_from_counts
from reports.tidy import load_counts
from tests.reports._report_synth import ALPHA, DIM, TestGG, add_counts, winner_store


class LogProbRaises(TestGG):
    family = "test_lp_raises"

    def log_prob(self, z):
        raise KeyError("sigma_vec")


def _cohen_like(c, noise, p):
    return noise.sigma * sps.norm.ppf(p)


class ForTheFamily(Certifier):
    certificates = {("test_lp_raises", "l2"): Certificate(_cohen_like)}


def _store_with(path, noise, certifier_name):
    store = winner_store(path)
    labels = np.arange(200) % 10
    add_counts(store, "m-win", noise, labels, labels, [990] * 200)
    certify_store(store, [certifier_name], ["l2"], [ALPHA], progress=False)
    store.close()


def test_a_noise_whose_log_prob_raises_leaves_its_rows_unchecked(tmp_path, plugins):
    plugins.noise("test_lp_raises", LogProbRaises)
    plugins.certifier("for-the-family", ForTheFamily)
    _store_with(tmp_path / "s.sqlite", LogProbRaises(0.25, DIM), "for-the-family")
    report, _ = make_report(tmp_path / "s.sqlite")
    gate = {c.name: c for c in report.sanity}["soundness"]
    assert gate.status == INCOMPLETE, gate.line()
    assert "the check could not run: KeyError: 'sigma_vec'" in gate.summary
    (board,) = report.boards
    assert [r.certifier for r in board.rows if r.key in board.unchecked] == ["for-the-family"]


class RaisesNow(Certifier):
    """Wrote its certificates once; its radius raises now (the plugin was edited)."""

    certificates = {("gaussian", "l2"): Certificate(lambda c, noise, p: {}["x"] * p)}


def test_a_certifier_that_raises_on_recomputation_fails_the_reproduce_check(tmp_path, plugins):
    store = winner_store(tmp_path / "s.sqlite")
    images, labels, pred, p = p_lower_from_counts(
        load_counts(store), "m-win", "gaussian(dim=64,sigma=0.25)", ALPHA, 0.0
    )
    store.put_certificates(
        [
            CertificateRow("m-win", "gaussian(dim=64,sigma=0.25)", int(i), "raises-now", "l2",
                           ALPHA, int(c), float(pi), 0.0, bool(c == lab and pi > 0.5), 0.0)
            for i, lab, c, pi in zip(images, labels, pred, p, strict=True)
        ]
    )  # fmt: skip
    store.close()
    plugins.certifier("raises-now", RaisesNow)
    report, _ = make_report(tmp_path / "s.sqlite")
    repro = {c.name: c for c in report.sanity}["reproducible"]
    assert repro.status == FAIL, repro.line()
    assert any("the certifier raised KeyError: 'x'" in d for d in repro.details)
    assert {row[5] for row in repro.affected} == {"raises-now"}


class Crashes(SanityCheck):
    name = "crashes"
    title = "a plugin check with a bug"

    def run(self, inputs, context) -> CheckResult:
        return {}["nothing"]


def test_a_check_that_raises_is_a_named_failure_and_the_report_is_written(tmp_path, plugins):
    winner_store(tmp_path / "s.sqlite").close()
    plugins.check("crashes", Crashes)
    report, _ = make_report(tmp_path / "s.sqlite")
    crashed = {c.name: c for c in report.sanity}["crashes"]
    assert crashed.status == FAIL
    assert "the check itself failed (KeyError: 'nothing')" in crashed.summary
    assert {c.name: c.status for c in report.sanity}["soundness"] != FAIL
