"""Two small things a reader met: a misspelt ``--reference`` is answered with the name it
is close to, as every other name is; and a headline with no gap leaves no empty table of
"images certified by only one row" in the appendix."""

from __future__ import annotations

import numpy as np
import pytest

from harness.certify import certify_store
from harness.noise import Gaussian
from reports.cli import make_report
from reports.view import DISCORDANT_SHOWN, discordant_table
from tests.reports._report_synth import ALPHA, DIM, add_counts, new_store, winner_store


def test_a_misspelt_reference_is_answered_with_the_close_name(tmp_path):
    path = tmp_path / "s.sqlite"
    winner_store(path, n_images=20).close()
    with pytest.raises(ValueError, match=r"reference certifier 'cohn'.*did you mean 'cohen'"):
        make_report(path, reference="cohn")


def test_no_gap_leaves_no_table_of_images(tmp_path):
    store = new_store(tmp_path / "s.sqlite", 30, {"a": 0.25, "b": 0.25})
    labels = np.arange(30) % 10
    for model in ("a", "b"):  # the same counts: the same certificates, no gap anywhere
        add_counts(store, model, Gaussian(0.25, DIM), labels, labels, [990] * 30)
    certify_store(store, ["cohen"], ["l2"], [ALPHA], progress=False)
    store.close()
    report, headlines = make_report(tmp_path / "s.sqlite")
    (board,), (h,) = report.boards, headlines
    assert h.other is not None and h.n10 == h.n01 == 0
    assert discordant_table(board, h) is None
    winner_store(tmp_path / "w.sqlite").close()
    winner, (hw,) = make_report(tmp_path / "w.sqlite")
    table = discordant_table(winner.boards[0], hw)
    assert table is not None and len(table.rows) == min(hw.n10 + hw.n01, DISCORDANT_SHOWN) > 0
