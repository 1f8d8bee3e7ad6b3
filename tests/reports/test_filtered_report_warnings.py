"""A report filtered to some rows (``--model``, say) of a complete store does not call
it incomplete: the warnings speak of the store, and every sampled (model, noise, image)
of it has its certificates, whatever the filter leaves on the page."""

from __future__ import annotations

from harness.store import Store
from reports.cli import make_report
from tests.reports._report_synth import winner_store


def _incomplete(report) -> list[str]:
    return [w for w in report.warnings if "certification incomplete" in w]


def test_a_model_filter_on_a_complete_store_warns_of_nothing(tmp_path):
    path = tmp_path / "s.sqlite"
    with winner_store(path, n_images=20) as store:
        sampled = set(store.query("SELECT model, noise, image FROM counts"))
        certified = set(store.query("SELECT model, noise, image FROM certificates"))
    assert sampled == certified  # complete, by the raw tables
    report, _ = make_report(path, models=["m-win"])
    assert _incomplete(report) == []


def test_a_filter_keeps_the_warning_of_an_incomplete_store(tmp_path):
    path = tmp_path / "s.sqlite"
    with winner_store(path, n_images=20) as store, store.transaction() as db:
        db.execute("DELETE FROM certificates WHERE model = 'm-low' AND image < 3")
    with Store(path) as store:
        uncertified = set(store.query("SELECT model, noise, image FROM counts")) - set(
            store.query("SELECT model, noise, image FROM certificates")
        )
    assert len(uncertified) == 3
    report, _ = make_report(path, models=["m-win"])
    assert len(_incomplete(report)) == 1 and "3 sampled" in _incomplete(report)[0]
