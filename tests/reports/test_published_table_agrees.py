"""The published-numbers table: the paper's value in %, set against the reference
certifier's row (not the row ranked first by ACR) with its certified accuracy
recomputed from the store, only for records of the board's own norm."""

from __future__ import annotations

import pytest
from statsmodels.stats.proportion import proportions_ztest

from reports.published import compare_published, published_cells
from tests.reports._outputs_store import built_report
from tests.reports._report_synth import ALPHA

MODEL = "wrn_28&10"


def record(**fields):
    base = {
        "paper": "P", "table": "T", "dataset": "synthetic", "norm": "l2", "method": "M",
        "noise": "gaussian", "sigma": 0.25, "model": MODEL, "radii": [0.25, 0.5],
        "n_images": 500, "certified_accuracy": [60.0, 20.0], "alpha": ALPHA,
    }  # fmt: skip
    return {**base, **fields}


@pytest.fixture(scope="module")
def board_and_certs(tmp_path_factory):
    with built_report(tmp_path_factory.mktemp("published") / "s.sqlite") as (report, certs):
        return report.boards[0], certs, report


def test_the_paper_is_set_against_the_reference_row_in_percent(board_and_certs):
    board, certs, _ = board_and_certs
    assert board.rows_of(MODEL)[0].certifier != "cohen"  # ranked first: the other row
    comps = compare_published(board, [record(), record(norm="linf", method="other norm")])
    assert [c.record["method"] for c in comps] == ["M", "M"]  # the l-inf record is not here
    cohen = certs[(certs["model"] == MODEL) & (certs["certifier"] == "cohen")]
    cells = published_cells(comps)
    for c, row, r, reported in zip(comps, cells, [0.25, 0.5], [60.0, 20.0], strict=True):
        assert c.row.certifier == "cohen"
        k = int((cohen["ok"] & (cohen["radius"] >= r)).sum())
        assert row[3] == f"{r:g}" and row[4] == f"{reported:.1f}"
        assert row[5] == f"{100 * k / len(cohen):.1f} (n={len(cohen)})"
        _, p = proportions_ztest([round(reported * 5), k], [500, len(cohen)])
        assert float(row[6]) == pytest.approx(p, rel=1e-2)


def test_both_pages_show_the_published_table(board_and_certs):
    from reports import render
    from reports.headline import headline
    from reports.view import build_view

    board, certs, report = board_and_certs
    heads = [headline(b, report.level) for b in report.boards]
    view = build_view(report, heads, {}, linked_figures=False, published=[record()])
    md, _ = render.markdown(view)
    page = render.html(view)
    cohen = certs[(certs["model"] == MODEL) & (certs["certifier"] == "cohen")]
    for r in (0.25, 0.5):
        here = f"{100 * (cohen['ok'] & (cohen['radius'] >= r)).mean():.1f} (n={len(cohen)})"
        assert here in md.split("**Published numbers**")[1]
        assert f">{here}</td>" in page.split("Published numbers (reported)")[1]
