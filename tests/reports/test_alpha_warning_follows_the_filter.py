"""The line that names alphas certified after the run ("each alpha has its own tables")
speaks of the tables the report shows: a report filtered to the config's alpha does not
name another alpha that it has no table for, and an unfiltered one still names it."""

from __future__ import annotations

from harness.certify import certify_store
from harness.store import Store
from reports.cli import make_report
from tests.reports._report_synth import winner_store


def _store_certified_later_at(path, alpha):
    winner_store(path, n_images=30).close()
    with Store(path) as store:
        config = store.manifest()["config"]
        certify = {**config["certify"], "alpha": [0.001]}
        store.put_manifest({"config": {**config, "certify": certify}})
        certify_store(store, ["cohen"], ["l2"], [alpha], progress=False)


def _alpha_lines(report):
    return [w for w in report.warnings if "certified after the run" in w]


def test_a_report_at_the_config_alpha_does_not_name_another(tmp_path):
    path = tmp_path / "s.sqlite"
    _store_certified_later_at(path, 0.01)
    report, _ = make_report(path, alpha=0.001)
    assert {b.alpha for b in report.boards} == {0.001}
    assert _alpha_lines(report) == []


def test_a_report_that_shows_the_later_alpha_names_it(tmp_path):
    path = tmp_path / "s.sqlite"
    _store_certified_later_at(path, 0.01)
    for filters in ({}, {"alpha": 0.01}):
        report, _ = make_report(path, **filters)
        (line,) = _alpha_lines(report)
        assert line.startswith("alpha = 0.01 certified after the run"), line
