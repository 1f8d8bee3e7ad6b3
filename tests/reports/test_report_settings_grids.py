"""The ``[report]`` settings: every radius grid is sorted, holds 0 once and each given
radius once; bad values, and radii that would print (and name their columns) alike, are
refused; command-line values override the config's."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reports.settings import NORMS, ReportSettings, ReportSettingsError

radii = st.lists(st.floats(0, 10, allow_nan=False) | st.integers(0, 5), min_size=1, max_size=8)


def _print_apart(values) -> bool:
    grid = {0.0, *map(float, values)}
    return len({f"{r:g}" for r in grid}) == len(grid)


@settings(max_examples=100, deadline=None)
@given(radii)
def test_a_config_grid_is_sorted_with_zero_once(values):
    if not _print_apart(values):
        with pytest.raises(ReportSettingsError, match="both print as"):
            ReportSettings.from_table({"radii": {"l2": values}})
        return
    s = ReportSettings.from_table({"radii": {"l2": values}})
    assert s.grid("l2") == sorted({0.0, *map(float, values)})


@settings(max_examples=100, deadline=None)
@given(radii)
def test_a_command_line_grid_is_sorted_with_zero_once(values):
    if not _print_apart(values):
        with pytest.raises(ReportSettingsError, match="both print as"):
            ReportSettings().override(radii=[repr(float(v)) for v in values])
        return
    s = ReportSettings().override(radii=[str(v) for v in values])
    for norm in NORMS:
        assert s.grid(norm) == sorted({0.0, *map(float, values)})


@pytest.mark.parametrize("grid", [[0.5, 0.5000001], [1e-7, 1.0000001e-7], [2, 2.0000000001]])
def test_radii_that_print_alike_are_refused(grid):
    """Columns, their marks and the JSON keys are named by ``{r:g}``: two radii printed
    alike would share a column, one overwriting the other."""
    with pytest.raises(ReportSettingsError, match="both print as"):
        ReportSettings.from_table({"radii": {"l2": grid}})
    assert ReportSettings.from_table({"radii": {"l2": [0.5, 0.500001]}}).grid("l2") == [
        0.0,
        0.5,
        0.500001,
    ]


def test_a_norms_own_grid_wins_over_the_common_one_and_the_others_keep_theirs():
    s = ReportSettings.from_table({"radii": {"linf": [0.03]}})
    s = s.override(radii=["l2=0.1,0.2", "0.5"])
    assert s.grid("l2") == [0.0, 0.1, 0.2]
    assert s.grid("l1") == [0.0, 0.5]
    assert s.grid("linf") == [0.0, 0.5]
    assert ReportSettings().override(radii=["linf=0.03"]).grid("l2") == ReportSettings().grid("l2")


@pytest.mark.parametrize("bad", [[-0.1], [math.inf], [math.nan], [True], ["0.5"], []])
def test_bad_radii_are_refused(bad):
    with pytest.raises(ReportSettingsError, match="report.radii.l2"):
        ReportSettings.from_table({"radii": {"l2": bad}})


@pytest.mark.parametrize("level", [0, 1, 0.0, 1.0, -0.5, True])
def test_a_level_outside_the_open_unit_interval_is_refused(level):
    with pytest.raises(ReportSettingsError, match="report.level"):
        ReportSettings.from_table({"level": level})


def test_the_configs_level_and_filters_are_kept():
    s = ReportSettings.from_table({"level": 0.01, "reference": "wulff"})
    assert (s.level, s.reference) == (0.01, "wulff")
    s = s.override(certifiers=["cohen", "wulff"], models=["m"], norms=["l1"], alpha=0.01)
    assert (s.certifiers, s.models, s.norms, s.alpha) == (("cohen", "wulff"), ("m",), ("l1",), 0.01)


@pytest.mark.parametrize("alpha", [0, 1, 0.0, -0.1])
def test_an_alpha_outside_the_open_unit_interval_is_refused(alpha):
    with pytest.raises(ReportSettingsError, match="--alpha"):
        ReportSettings().override(alpha=alpha)


def test_a_blank_reference_and_an_unknown_norm_are_refused():
    with pytest.raises(ReportSettingsError, match="report.reference"):
        ReportSettings.from_table({"reference": "  "})
    with pytest.raises(ReportSettingsError, match="--norm"):
        ReportSettings().override(norms=["l3"])
    with pytest.raises(ReportSettingsError, match="report.radius"):
        ReportSettings.from_table({"radius": {}})
