"""``smoothbench plan``: the edges of its options (a zero or negative gap, the discordant
share, p = 1) and ``--alpha`` reaching the planner."""

from __future__ import annotations

import pytest

from harness.cli import main


def _draws(text):
    return int(text.split("about ")[1].split(" ")[0].replace(",", ""))


def test_a_zero_gap_is_refused_before_printing(capsys):
    assert main(["plan", "images", "--base", "0.5", "--gap", "0"]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and "--gap" in captured.err


def test_a_negative_gap_plans_like_the_positive_one(capsys):
    assert main(["plan", "images", "--base", "0.51", "--gap", "-0.01"]) == 0
    down = capsys.readouterr().out
    assert main(["plan", "images", "--base", "0.50", "--gap", "0.01"]) == 0
    up = capsys.readouterr().out
    # the same pair of accuracies, named in the other order: the same sample sizes
    assert down.split(":", 1)[1] == up.split(":", 1)[1]


@pytest.mark.parametrize("disc", ["0.005", "1.5"])
def test_a_discordant_share_outside_gap_to_one_is_refused(capsys, disc):
    assert main(["plan", "images", "--base", "0.5", "--gap", "0.01", "--discordant", disc]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and "--discordant" in captured.err


@pytest.mark.parametrize(
    ("base", "gap", "most"),
    [("0.99", "0.005", 0.015), ("0.01", "0.005", 0.025), ("0.4", "0.2", 1.0)],
)
def test_a_discordant_share_two_such_rows_cannot_have_is_refused(capsys, base, gap, most):
    """Rows certifying ``p2 = base`` and ``p1 = base + gap`` of the images disagree on at
    most ``min(p1 + p2, 2 - p1 - p2)`` of them (each row fails on the images it misses,
    and certifies only those it certifies): the bound is allowed, a little more is not."""
    argv = ["plan", "images", "--base", base, "--gap", gap, "--discordant"]
    assert main([*argv, f"{most:.6g}"]) == 0
    capsys.readouterr()
    assert main([*argv, f"{most + 0.001:.6g}"]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and "--discordant" in captured.err


def test_p_of_one_is_allowed(capsys):
    assert main(["plan", "draws", "--sigma", "0.25", "--radius", "0.5", "--p", "1"]) == 0
    assert "estimation draws" in capsys.readouterr().out


def test_a_larger_alpha_needs_fewer_draws(capsys):
    argv = ["plan", "draws", "--sigma", "0.25", "--radius", "0.5", "--p", "0.99"]
    assert main(argv) == 0
    default = _draws(capsys.readouterr().out)
    assert main([*argv, "--alpha", "0.05"]) == 0
    text = capsys.readouterr().out
    assert "alpha = 0.05" in text
    assert _draws(text) < default


def test_a_tiny_level_plans_without_the_quantile_searchs_warning(capsys):
    """At level 1e-300 scipy's binomial quantile (Boost) gives up for some numbers of
    discordant pairs and warns; the planner corrects its start anyway, and the user saw
    Boost's message (with its unfilled ``%1%``) as a warning of the plan."""
    assert main(["plan", "images", "--base", "0.6", "--gap", "0.02", "--level", "1e-300"]) == 0
    captured = capsys.readouterr()
    assert "test images" in captured.out
    assert captured.err == ""
