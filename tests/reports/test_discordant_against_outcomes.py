"""``compare_rows_by_image`` (the ``compare`` command) against the stored outcomes: which
images each row alone certifies, the p_A and radius it shows of each, and the McNemar
p-values of its summary, from scipy."""

from __future__ import annotations

import pandas as pd
import pytest
from scipy import stats as sps

from reports.discordant import compare_rows_by_image
from reports.tidy import load_outcomes
from tests.reports._references import mcnemar_midp
from tests.reports._report_synth import winner_store

FIRST, SECOND = ("m-mid", "gaussian", "cohen"), ("m-win", "gaussian", "cohen")


@pytest.fixture(scope="module")
def stored(tmp_path_factory):
    path = tmp_path_factory.mktemp("disc") / "s.sqlite"
    with winner_store(path) as store:
        outcomes = load_outcomes(store)
    return path, outcomes


def _rows(outcomes: pd.DataFrame, model: str) -> pd.DataFrame:
    return outcomes[outcomes["model"] == model].set_index("image").sort_index()


@pytest.mark.parametrize("radius", [0.0, 0.2, 0.4])
def test_discordant_images_and_summary_from_the_outcomes(stored, radius):
    path, outcomes = stored
    table, summary = compare_rows_by_image(path, FIRST, SECOND, "l2", radius)
    a, b = _rows(outcomes, FIRST[0]), _rows(outcomes, SECOND[0])
    x = a["correct"] & ~a["abstained"] & (a["radius"] >= radius)
    y = b["correct"] & ~b["abstained"] & (b["radius"] >= radius)
    only_first, only_second = x & ~y, ~x & y
    n10, n01 = int(only_first.sum()), int(only_second.sum())
    assert n10 != n01  # the two rows differ, so the order matters
    assert f"only the first {n10}, only the second {n01}" in summary
    assert f"first {int(x.sum())}, second {int(y.sum())}" in summary
    midp = mcnemar_midp(n10, n01)
    exact = sps.binomtest(n10, n10 + n01, 0.5).pvalue
    assert f"McNemar mid-p {midp:.4g} (exact {exact:.4g})" in summary
    table = table.set_index("image")
    assert set(table.index) == set(a.index[only_first | only_second])
    for image, rec in table.iterrows():
        assert rec["certified by"] == ("first" if only_first[image] else "second")
        assert rec["p_A first"] == a.loc[image, "p_lower"]
        assert rec["p_A second"] == b.loc[image, "p_lower"]
        assert rec["radius first"] == a.loc[image, "radius"]
        assert rec["radius second"] == b.loc[image, "radius"]
    assert (table["certified by"] == "first").sum() == n10


def test_an_image_certified_at_exactly_the_radius_counts(stored):
    """Certified at r means radius >= r: at r equal to one image's radius, it counts."""
    path, outcomes = stored
    a, b = _rows(outcomes, FIRST[0]), _rows(outcomes, SECOND[0])
    for rows in (a, b):
        r = float(rows.loc[rows["correct"], "radius"].iloc[0])
        _, summary = compare_rows_by_image(path, FIRST, SECOND, "l2", r)
        x = int((a["correct"] & (a["radius"] >= r)).sum())
        y = int((b["correct"] & (b["radius"] >= r)).sum())
        assert f"first {x}, second {y};" in summary
