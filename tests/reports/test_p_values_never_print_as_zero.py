"""A p-value that underflows to 0 is printed as below the smallest double, never as "0":
with 3,000 images the headline read ``mid-p = 0 (exact 0)``, ``z-test p = 0`` and
``paired t-test p = 0``, a claim of certainty."""

from __future__ import annotations

import math
import re

from hypothesis import given
from hypothesis import strategies as st

from harness.certify import certify_store
from harness.cli import main
from reports.stats import mcnemar_pvalues
from smoothbench.p_values import P_FLOOR, fmt_p, p_stated
from tests.reports._report_synth import ALPHA, ScaledCohen, winner_store


@given(st.floats(min_value=0.0, max_value=1.0))
def test_a_p_value_prints_as_itself_or_below_the_floor(p):
    text = fmt_p(p)
    if p == 0:
        assert text == P_FLOOR and p_stated(p) == P_FLOOR
    else:
        assert math.isclose(float(text), p, rel_tol=5e-4)
        assert p_stated(p) == f"= {text}"


def test_the_floor_is_true_of_mcnemars_tail_where_it_underflows():
    """1,200 discordant pairs all one way: the exact two-sided p is 2 * 2^-1200, about
    10^-361 (by logarithms, not by the code under test)."""
    exact, midp = mcnemar_pvalues([1200], [0])
    assert math.log10(2) * (1 - 1200) < -300
    assert fmt_p(float(exact[0])) == P_FLOOR and fmt_p(float(midp[0])) == P_FLOOR


def test_the_report_prints_no_p_value_of_zero(tmp_path, plugins):
    plugins.certifier("half-cohen", type("Half", (ScaledCohen,), {"factor": 0.5}))
    store = winner_store(tmp_path / "s.sqlite", n_images=3000)
    certify_store(store, ["half-cohen"], ["l2"], [ALPHA], progress=False)
    store.close()
    out = tmp_path / "out"
    assert main(["report", str(tmp_path / "s.sqlite"), "--out", str(out), "--format", "md"]) == 0
    page = (out / "leaderboard.md").read_text()
    assert "mid-p < 1e-300" in page, page  # the gap the headline quotes underflows
    assert not re.findall(r"\b(?:p|mid-p|exact) = 0(?![.\d])", page)
    cells = [
        line
        for line in (out / "appendix.md").read_text().splitlines()
        if line.startswith("|") and re.search(r"\|\s*0\s*\|", line)
    ]
    assert not cells, cells[:2]
