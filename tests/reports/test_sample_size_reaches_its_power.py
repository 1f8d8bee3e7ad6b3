"""A plan reaches the power it states, at the n it prints, for the test it names: the
exact McNemar test (paired) and the pooled two-proportion z-test (unpaired), each checked
by enumeration (``tests.reports._references``, scipy's binomial alone), at n and n - 1.
The normal approximations the plans start from (Connor 1987; the arcsine effect size)
fell short: 3,138 images for 4% discordance and a 1-point gap have an exact power of
0.780, and 1,110 images per arm for 4% vs 2% one of 0.798."""

from __future__ import annotations

import re

import pytest

from harness.cli import main
from reports import stats
from tests.reports._references import mcnemar_power, pooled_ztest_power


@pytest.mark.parametrize(
    "p10,p01,alpha,power",
    [
        (0.025, 0.015, 0.05, 0.8),  # Connor: 3,138 images, exact power 0.780
        (0.1, 0.05, 0.05, 0.8),  # Connor: 469, exact power 0.776
        (0.0125, 0.0025, 0.05, 0.8),
        (0.2, 0.1, 0.01, 0.9),
        (0.6, 0.05, 0.05, 0.8),  # a few images: the discrete test's own region
    ],
)
def test_the_paired_plan_reaches_its_power_by_the_exact_test(p10, p01, alpha, power):
    plan = stats.mcnemar_sample_size(p10, p01, alpha, power)
    assert plan.exact
    at_n = mcnemar_power(plan.n, p10, p01, alpha, mid_p=False)
    assert at_n >= power and plan.power == pytest.approx(at_n, abs=1e-9)
    assert mcnemar_power(plan.n - 1, p10, p01, alpha, mid_p=False) < power


@pytest.mark.parametrize(
    "p1,p2,alpha,power",
    [
        (0.04, 0.02, 0.05, 0.8),  # the arcsine n, 1,110, has power 0.798
        (0.99, 0.95, 0.05, 0.8),  # the arcsine n, 250, has power 0.793
        (0.7, 0.5, 0.05, 0.8),  # Fleiss' n, 93, has power 0.799
        (0.6, 0.5, 0.05, 0.8),
        (0.5, 0.25, 0.001, 0.95),
    ],
)
def test_the_unpaired_plan_reaches_its_power_by_the_pooled_z_test(p1, p2, alpha, power):
    plan = stats.unpaired_sample_size(p1, p2, alpha, power)
    assert plan.exact
    at_n = pooled_ztest_power(plan.n, p1, p2, alpha)
    assert at_n >= power and plan.power == pytest.approx(at_n, abs=1e-9)
    assert pooled_ztest_power(plan.n - 1, p1, p2, alpha) < power


def test_beyond_what_can_be_enumerated_a_plan_says_its_power_is_approximate():
    paired = stats.mcnemar_sample_size(0.2505, 0.2495)
    unpaired = stats.unpaired_sample_size(0.501, 0.5)
    assert not paired.exact and not unpaired.exact
    assert paired.n > 10**6 and unpaired.n > 10**6


def test_plan_images_prints_the_power_each_plan_reaches(capsys):
    """3,290: the first n whose exact McNemar power reaches 0.8 for p10 = 0.025,
    p01 = 0.015 (the audit's own enumeration, and ``mcnemar_power`` of the references
    here); the unpaired line's n and power against the pooled z-test's enumeration."""
    argv = ["plan", "images", "--base", "0.5", "--gap", "0.01", "--discordant", "0.04"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "3,290 test images (exact power at that n: 0.800)" in out
    assert mcnemar_power(3290, 0.025, 0.015, 0.05, mid_p=False) >= 0.8
    assert mcnemar_power(3289, 0.025, 0.015, 0.05, mid_p=False) < 0.8
    assert "least discordance" not in out
    argv = ["plan", "images", "--base", "0.5", "--gap", "0.2", "--discordant", "0.3"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    found = re.search(r"([\d,]+) images per arm \(exact power at that n: ([\d.]+)\)", out)
    assert found, out
    n, printed = int(found[1].replace(",", "")), float(found[2])
    assert pooled_ztest_power(n, 0.7, 0.5, 0.05) >= 0.8 > pooled_ztest_power(n - 1, 0.7, 0.5, 0.05)
    assert printed == round(pooled_ztest_power(n, 0.7, 0.5, 0.05), 3)
    assert main(["plan", "images", "--base", "0.5", "--gap", "0.01"]) == 0
    assert "assumes the least discordance the gap allows" in capsys.readouterr().out


def test_a_tiny_level_is_planned_not_crashed(capsys):
    """``norm.ppf(1 - 5e-18)`` is infinite (1 - 5e-18 rounds to 1); ``isf`` is not."""
    assert main(["plan", "images", "--base", "0.5", "--gap", "0.05", "--level", "1e-17"]) == 0
    out = capsys.readouterr().out
    assert "test images (exact power at that n: 0.8" in out
