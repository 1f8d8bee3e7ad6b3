"""A published record lines up only with a row of its own sigma and alpha.

A model with two Gaussian rows (sigma 0.25 and 0.5) and a paper's sigma = 0.25 record:
the record is set against the sigma = 0.25 row, never the other (which certifies larger
radii and, ranked first by ACR, used to be taken); a record of another sigma, or at
another alpha than the board's (a larger alpha certifies larger radii), lines up with
nothing, and the table says why.
"""

from __future__ import annotations

import numpy as np
import pytest

from harness.certify import certify_store
from harness.noise import Gaussian
from reports.cli import make_report, write_report
from reports.published import compare_published
from tests.reports._report_synth import ALPHA, DIM, add_counts, new_store

LOOSE = 0.05


def record(**fields):
    base = {
        "paper": "P", "table": "T", "dataset": "synthetic", "norm": "l2", "method": "M",
        "noise": "gaussian", "sigma": 0.25, "model": "m", "radii": [0.25, 0.75],
        "n_images": 500, "certified_accuracy": [60.0, 20.0], "alpha": ALPHA,
    }  # fmt: skip
    return {**base, **fields}


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    path = tmp_path_factory.mktemp("published") / "s.sqlite"
    store = new_store(path, 100, {"m": 0.25})
    labels = np.arange(100) % 10
    predicted = np.where(np.arange(100) < 70, labels, (labels + 1) % 10)
    for sigma in (0.25, 0.5):
        add_counts(store, "m", Gaussian(sigma, DIM), labels, predicted, [995] * 100)
    certify_store(store, ["cohen"], ["l2"], [ALPHA, LOOSE], progress=False)
    store.close()
    return make_report(path, published=[record()])


def board_at(report, alpha):
    return next(b for b in report[0].boards if b.alpha == alpha)


def sigma_of(board, row):
    return board.specs[row.noise]["params"]["sigma"]


def test_the_record_lines_up_with_the_row_of_its_sigma(report):
    board = board_at(report, ALPHA)
    assert sorted(sigma_of(board, r) for r in board.rows) == [0.25, 0.5]
    assert sigma_of(board, board.rows[0]) == 0.5  # ranked first, and not the paper's sigma
    at_quarter = next(r for r in board.rows if sigma_of(board, r) == 0.25)
    comps = compare_published(board, [record()])
    assert [c.radius for c in comps] == [0.25, 0.75]
    for c in comps:
        assert c.row is at_quarter and c.unmatched == ""
        assert c.ours == pytest.approx(float(at_quarter.certified(c.radius).mean()))
    # at 0.75 only the sigma = 0.5 row certifies anything (sigma 0.25 reaches 0.64)
    assert comps[1].ours == 0.0
    assert float(board.rows[0].certified(0.75).mean()) == pytest.approx(0.7)


def test_a_record_of_another_sigma_lines_up_with_nothing(report):
    board = board_at(report, ALPHA)
    comps = compare_published(board, [record(sigma=0.12)])
    assert all(c.row is None and c.ours is None and c.p_unpaired is None for c in comps)
    assert all(c.unmatched == "no gaussian row at sigma = 0.12" for c in comps)


def test_a_record_at_another_alpha_lines_up_with_nothing(report):
    loose = board_at(report, LOOSE)
    (c, _) = compare_published(loose, [record()])
    assert c.row is None and c.unmatched == f"alpha {LOOSE:g} here, {ALPHA:g} in the paper"
    (c, _) = compare_published(loose, [record(alpha=LOOSE)])
    assert c.row is not None and sigma_of(loose, c.row) == 0.25


def test_a_record_that_states_no_noise_says_so(report):
    board = board_at(report, ALPHA)
    (c, _) = compare_published(board, [record(noise="not stated", sigma=None)])
    assert c.row is None and c.unmatched == "the paper does not state its noise"


def test_a_record_that_states_neither_takes_the_first_reference_row(report):
    board = board_at(report, LOOSE)
    (c, _) = compare_published(board, [record(sigma=None, alpha=None)])
    assert c.row is board.rows[0]


def test_the_table_says_why_a_record_lines_up_with_nothing(report, tmp_path):
    written = write_report(*report, tmp_path, ["md"])
    md = next(p for p in written if p.name == "leaderboard.md").read_text()
    assert f"— (alpha {LOOSE:g} here, {ALPHA:g} in the paper)" in md
    assert "(n=100)" in md  # the lined-up row on the alpha = 0.001 board


def _imported(store, noise, radii):
    from harness.store import ImportedRow

    rows = [
        ImportedRow("synthetic", "m", noise.name, "cohen", "l2", ALPHA, i, i % 10,
                    i % 10, float(r), True, 1.0, "their_file.tsv")
        for i, r in enumerate(radii)
    ]  # fmt: skip
    store.put_imported(rows, noises={noise.name: noise.spec()})


def test_an_imported_row_lines_up_where_none_is_reproduced(tmp_path):
    """The authors' own certify file, imported alone, is set beside their paper (it was
    said to be missing: "no gaussian row at sigma = 0.25"); with a reproduced row of that
    sigma in the store, the reproduced one lines up."""
    noise = Gaussian(0.25, DIM)
    radii = np.where(np.arange(100) < 45, 0.5, 0.1)  # 45% certified at 0.25
    store = new_store(tmp_path / "imported.sqlite", 100, {"m": 0.25})
    _imported(store, noise, radii)
    store.close()
    (board,) = make_report(tmp_path / "imported.sqlite", published=[record()])[0].boards
    comps = compare_published(board, [record()])
    assert all(c.row is not None and c.row.kind == "imported" for c in comps)
    assert comps[0].ours == pytest.approx(0.45) and comps[0].unmatched == ""

    store = new_store(tmp_path / "both.sqlite", 100, {"m": 0.25})
    _imported(store, noise, radii)
    labels = np.arange(100) % 10
    add_counts(store, "m", noise, labels, labels, [995] * 100)
    certify_store(store, ["cohen"], ["l2"], [ALPHA], progress=False)
    store.close()
    (board,) = make_report(tmp_path / "both.sqlite", published=[record()])[0].boards
    assert {r.kind for r in board.rows} == {"imported", "smoothing"}
    assert all(c.row.kind == "smoothing" for c in compare_published(board, [record()]))

    # a reproduced row of another sigma does not hide the imported row of the record's
    store = new_store(tmp_path / "other.sqlite", 100, {"m": 0.25})
    _imported(store, noise, radii)
    add_counts(store, "m", Gaussian(0.5, DIM), labels, labels, [995] * 100)
    certify_store(store, ["cohen"], ["l2"], [ALPHA], progress=False)
    store.close()
    (board,) = make_report(tmp_path / "other.sqlite", published=[record()])[0].boards
    comps = compare_published(board, [record()])
    assert all(c.unmatched == "" and c.row.kind == "imported" for c in comps)
