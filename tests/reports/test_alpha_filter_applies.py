"""``--alpha A`` reports the certificates at A only: one leaderboard per norm, at A."""

from __future__ import annotations

from harness.certify import certify_store
from reports.cli import make_report
from tests.reports._report_synth import winner_store


def test_the_alpha_option_keeps_only_its_alpha(tmp_path):
    path = tmp_path / "s.sqlite"
    store = winner_store(path, n_images=20)
    certify_store(store, ["cohen"], ["l2"], [0.01], progress=False)
    store.close()
    everything, _ = make_report(path)
    assert sorted(b.alpha for b in everything.boards) == [0.001, 0.01]
    report, _ = make_report(path, alpha=0.01)
    assert [b.alpha for b in report.boards] == [0.01]
    assert set(report.outcomes["alpha"]) == {0.01}
