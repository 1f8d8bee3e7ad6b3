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
from reports.cli import make_report, write_report
from reports.sanity import FAIL
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
    # without the gate twice-cohen would have the best ACR of every model; it is left out
    (h,) = headlines
    assert "twice-cohen" not in h.row.certifiers and "twice-cohen" not in h.other.certifiers
    assert any("failed the soundness check" in text for _, text in h.lines())
    written = write_report(report, headlines, tmp_path / "out", ["md", "html"])
    md = (tmp_path / "out" / "leaderboard.md").read_text()
    assert "UNSOUND" in md and "sanity check failed: soundness" in md
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
    assert report.warnings and report.warnings[0].startswith("sampling incomplete: 29 of 200")
    table = report.boards[0].table.set_index("model")
    assert table.loc["a", "n"] == 100 and table.loc["b", "n"] == 29
    assert headlines[0].n == 29  # the images both rows share
    out = tmp_path / "out"
    write_report(report, headlines, out, ["md", "html", "csv", "latex"])
    for name in ("leaderboard.md", "appendix.md", "leaderboard.html"):
        text = (out / name).read_text()
        first = text[: text.find("<main>") + 600] if name.endswith("html") else text[:800]
        assert "sampling incomplete: 29 of 200 images" in first, name
    assert "| 29 " in (out / "leaderboard.md").read_text()  # the row's n column
