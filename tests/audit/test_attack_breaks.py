"""The attack audit's test of its breaks, by scipy.stats.binom: a false certificate
(alpha plus the certifier's spent confidence) and a false break (break_alpha) come from
each image's own draws, so breaks are tested as false certificates are, with
alpha + break_alpha + spent per image."""

import pytest
from scipy.stats import binom

from harness.audit import attack, run
from harness.audit.attack import AttackSettings, ImageAttack, SmoothedTarget
from harness.audit.statistical import REJECT


def tail(k, n, p):
    return float(binom.sf(k - 1, n, p))


@pytest.mark.parametrize("broken", [0, 2, 5])
def test_attack_rows_test_breaks_against_alpha_spent_and_break_alpha(monkeypatch, broken):
    settings = AttackSettings(break_alpha=0.001)
    n, alpha, spent = 10, 0.001, 0.0005
    target = SmoothedTarget("m", None, "gauss", None, "l2", {}, alpha, {"cohen": spent})
    attacks = [ImageAttack(i, 0, {"cohen": 0.5}, {"cohen": i < broken}, None) for i in range(n)]
    monkeypatch.setattr(run, "smoothed_targets", lambda *a: [target])
    monkeypatch.setattr(attack, "attack_targets", lambda *a, **k: {("m", "gauss", "l2"): attacks})
    (row,) = run.attack_rows(None, [], None, settings, progress=False)
    per_image = alpha + settings.break_alpha
    expected = tail(broken, n, per_image + spent)
    assert (row.trials, row.failures, row.confidence_spent) == (n, broken, spent)
    assert row.p_value == pytest.approx(expected, rel=1e-9)
    assert row.passed == (expected >= REJECT)


def test_ten_breaks_of_ten_images_fail_the_attack_audit(monkeypatch):
    """With break_alpha in the shared term, every p-value was at least break_alpha = REJECT:
    no attack row could fail."""
    settings = AttackSettings()  # break_alpha 0.001 == REJECT
    target = SmoothedTarget("m", None, "gauss", None, "l2", {}, 0.001, {"cohen": 0.0})
    attacks = [ImageAttack(i, 0, {"cohen": 0.5}, {"cohen": True}, None) for i in range(10)]
    monkeypatch.setattr(run, "smoothed_targets", lambda *a: [target])
    monkeypatch.setattr(attack, "attack_targets", lambda *a, **k: {("m", "gauss", "l2"): attacks})
    (row,) = run.attack_rows(None, [], None, settings, progress=False)
    # 10 breaks where each is a false certificate (alpha) or a false break (break_alpha),
    # both per image: P(Bin(10, 0.002) >= 10) ~ 1e-27
    assert tail(10, 10, 0.002) < 1e-20
    assert not row.passed


@pytest.mark.parametrize(("n", "broken", "fails"), [(1, 1, True), (1, 0, False), (2, 1, False)])
def test_a_break_fails_a_cell_whose_test_could_not(monkeypatch, n, broken, fails):
    """One image at alpha 0.001: even broken, its p-value is P(Bin(1, 0.002) >= 1) =
    0.002 >= REJECT, so no outcome could fail the test. A break found there fails the
    cell; with two images the test can fail (both broken: 4e-6), so one break of two is
    left to it (p = 1 - 0.998^2 = 0.004: a pass)."""
    settings = AttackSettings()
    assert tail(1, 1, 0.001 + settings.break_alpha) >= REJECT > tail(2, 2, 0.002)
    target = SmoothedTarget("m", None, "gauss", None, "l2", {}, 0.001, {"cohen": 0.0})
    attacks = [ImageAttack(i, 0, {"cohen": 0.5}, {"cohen": i < broken}, None) for i in range(n)]
    monkeypatch.setattr(run, "smoothed_targets", lambda *a: [target])
    monkeypatch.setattr(attack, "attack_targets", lambda *a, **k: {("m", "gauss", "l2"): attacks})
    (row,) = run.attack_rows(None, [], None, settings, progress=False)
    assert row.p_value == pytest.approx(tail(broken, n, 0.002), rel=1e-9)
    assert row.passed == (not fails)
    assert row.settings["smallest_p"] == pytest.approx(tail(n, n, 0.002), rel=1e-9)
