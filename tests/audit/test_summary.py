"""The audit's summary per (certifier, norm), by hand: failed cells, the largest spent
confidence, the smallest p-value, the breaks and the radii found; the printed status
follows the printed p-value."""

import pytest

from harness.audit.summary import summarize, table
from harness.store import AuditRow


def stat(cert, norm, p, passed, spent=0.0, trials=100, false=20):
    return AuditRow("statistical", cert, "gauss", norm, "linear", trials, false, 0.2, spent,
                    p, 0.5, 0.6, passed, {})  # fmt: skip


def atk(cert, norm, images, broken, found, mc, me, passed=True):
    return AuditRow("attack", cert, "gauss", norm, "m", images, broken, 0.001, 0.0, 0.5,
                    mc, me, passed, {"found": found})  # fmt: skip


def test_summary_by_hand():
    rows = [
        stat("cohen", "l2", 0.02, True, spent=0.0),
        stat("cohen", "l2", 0.004, True, spent=0.01),
        stat("cohen", "l2", 0.5, True, spent=0.002),
        atk("cohen", "l2", 10, 2, 4, 0.3, 0.5),
        atk("cohen", "l2", 6, 1, 2, 0.6, 0.9, passed=False),
        stat("cohen", "l1", 0.9, True),
    ]
    (l1, l2) = summarize(rows)
    assert (l2.certifier, l2.norm, l1.norm) == ("cohen", "l2", "l1")
    assert l2.trials == 300 and l2.false == 60 and l2.cells == 3
    assert l2.p_min == 0.004
    assert l2.spent == 0.01  # the largest spent of the cells
    assert l2.images == 16 and l2.broken == 3
    assert l2.found == 6
    assert l2.certified / l2.found == pytest.approx((0.3 * 4 + 0.6 * 2) / 6)
    assert l2.failed_cells == 1 and not l2.passed
    assert l1.passed and l1.p_min == 0.9
    text = table(rows)
    assert "FAIL" in text and "0.004" in text
    assert "the 6 cells here fail one by chance with probability below 0.006" in " ".join(
        text.split()
    )


def test_the_printed_p_and_the_status_agree():
    """Ten cells of one line, one at p = 5e-4: the line fails, and the p printed beside
    it is below the rejection level (a Bonferroni p over the line's cells, 5e-3, printed
    beside FAIL, said otherwise)."""
    rows = [stat("c", "l2", 5e-4 if d == 0 else 0.5, d != 0) for d in range(10)]
    line = next(ln for ln in table(rows).splitlines() if ln.startswith("c "))
    p_shown, status = float(line.split()[6]), line.split()[-1]
    assert (p_shown, status) == (5e-4, "FAIL")


def test_a_p_value_that_underflows_is_printed_below_the_floor():
    """Every certificate false: the binomial tail is about 10^-3000, computed as 0; the
    table's min p read 0, a claim of certainty."""
    from harness.audit.statistical import p_value

    p = p_value(1000, 1000, 0.001, 0.0)
    assert p == 0.0
    line = table([stat("broken", "l2", p, False, trials=1000, false=1000)]).splitlines()[2]
    assert "< 1e-300" in line, line
