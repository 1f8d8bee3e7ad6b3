"""The best-over-sigma0 table says which model achieves each value: by its sigma0 where
the models' sigma0 tell them apart, by name where two share one (two architectures
trained at 0.25, say), where a sigma0 alone would not say which model it was."""

from __future__ import annotations

import numpy as np
import pytest

from harness.certify import certify_store
from harness.noise import Gaussian
from reports import render
from reports.headline import headline
from reports.leaderboard import build_report
from reports.settings import ReportSettings
from reports.tidy import load_outcomes
from reports.view import build_view
from tests.reports._report_synth import ALPHA, DIM, N, add_counts, missing_first, new_store


def _envelope_cells(tmp_path, sigma0: dict[str, float | None]) -> tuple[list[str], str]:
    """The envelope's cells and caption (markdown) for models ``weak`` (16 of 40 wrong)
    and ``strong`` (4 wrong), each sampled at its ``sigma0`` (0.25 where it has none: a
    noise not matched to it)."""
    store = new_store(tmp_path / "s.sqlite", 40, sigma0)
    labels = np.arange(40) % 10
    for model, wrong in (("weak", 16), ("strong", 4)):
        noise = Gaussian(sigma0[model] or 0.25, DIM)
        add_counts(store, model, noise, labels, missing_first(labels, wrong), np.full(40, N - 5))
    certify_store(store, ["cohen"], ["l2"], [ALPHA], progress=False)
    report = build_report(load_outcomes(store), manifest=store.manifest(),
                          specs=store.noise_specs(),
                          settings=ReportSettings(radii={"l2": (0.0, 0.25)}))  # fmt: skip
    store.close()
    view = build_view(report, [headline(b, report.level) for b in report.boards], {},
                      linked_figures=False)  # fmt: skip
    md, _ = render.markdown(view)
    block = md.split("**Best over sigma0**")[1]
    (line,) = [ln for ln in block.split("\n\n")[1].splitlines() if ln.startswith("| Gaussian")]
    return [c.strip() for c in line.split("|")[3:-1]], block.split("\n\n")[0]


@pytest.mark.parametrize(
    ("sigma0", "achiever", "named"),
    [
        ({"weak": 0.5, "strong": 0.25}, "(σ0=0.25)", False),
        ({"weak": 0.25, "strong": 0.25}, "(strong)", True),
        ({"weak": 0.25, "strong": 0.2500001}, "(strong)", True),  # both print as 0.25
        ({"weak": None, "strong": None}, "(strong)", True),  # unmatched noise, one label
    ],
    ids=["distinct", "shared", "printed-alike", "none"],
)
def test_the_achiever_is_the_sigma0_or_the_model(tmp_path, sigma0, achiever, named):
    cells, caption = _envelope_cells(tmp_path, sigma0)
    assert cells and all(c.endswith(achiever) for c in cells), cells
    assert ("model that achieves it is named" in caption) is named
