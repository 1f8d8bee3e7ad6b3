"""Small promises of what a reader sees: the figure spans the table's radii where a row
has no finite reach, a reach is printed to four significant digits, and every column's
description reaches the footnotes."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from reports.cli import make_report
from reports.columns import COLUMNS
from reports.plots import _radius_grid
from reports.view import footnotes
from tests.reports._report_synth import winner_store


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    path = tmp_path_factory.mktemp("range") / "s.sqlite"
    winner_store(path, n_images=40).close()
    return make_report(path)[0]


def test_a_row_without_a_finite_reach_keeps_the_boards_radius_grid_in_the_figure(report):
    """A deterministic row may certify at any radius, so the figure cannot end at the
    other rows' reaches: it spans the board's grid (the table's columns) as well."""
    board = report.boards[0]
    rows = board.rows_of(board.models[0])
    reaches = [r.reach for r in rows]
    assert all(r is not None and np.isfinite(r) for r in reaches)
    assert max(board.radii) > 1.08 * max(reaches)  # the grid reaches past every curve here
    with_reaches = _radius_grid(board, rows)
    assert with_reaches[-1] < max(board.radii)
    for missing in (None, float("inf")):
        unbounded = [dataclasses.replace(rows[0], reach=missing), *rows[1:]]
        grid = _radius_grid(board, unbounded)
        assert grid[0] == 0.0 and grid[-1] >= max(board.radii)
        assert np.all(np.diff(grid) > 0)


def _reach_format():
    return next(c for c in COLUMNS if c.key == "reach").fmt


@given(st.floats(min_value=1e-6, max_value=1e6, allow_nan=False))
def test_a_reach_is_printed_to_four_significant_digits(value):
    """Reaches of two rows often differ in the third digit (sigma 0.25 against 0.26):
    the printed value is within half a unit of the fourth significant digit."""
    printed = float(_reach_format()(value))
    assert abs(printed - value) <= 5e-4 * value * (1 + 1e-12)


def test_a_missing_reach_is_printed_as_not_available():
    fmt = _reach_format()
    assert fmt(float("nan")) == "n/a" and fmt(float("inf")) == "n/a"


def test_every_columns_description_is_in_the_footnotes_with_its_title(report):
    notes = footnotes(report)
    described = {c.key: c for b in report.boards for c in b.columns if c.description}
    assert described  # the synthetic report has described columns
    for column in described.values():
        line = next((n for n in notes if column.description in n), None)
        assert line is not None, column.key
        assert column.title in line.split(":")[0]
