"""``smoothbench plan``: the sample-size planner.

    smoothbench plan images --base 0.50 --gap 0.01 [--discordant 0.04] [--power 0.8]
    smoothbench plan draws --sigma 0.25 --radius 0.5 --p 0.99 [--alpha 0.001]

``images``: the test images needed to detect a gap in certified accuracy (``base`` vs
``base + gap``): per arm for the unpaired z-test papers use, and in total for the paired
McNemar test given the share of images on which the two rows disagree (``discordant``;
from a pilot run's comparison table). ``draws``: the Monte Carlo estimation draws
needed to certify radius ``r`` with Gaussian noise ``sigma`` where the top class has
probability ``p`` (Cohen's radius ``sigma Phi^{-1}(p_A) >= r``).
"""

from __future__ import annotations

import argparse
import math
from typing import TYPE_CHECKING

from harness.cli.parser import real_number

if TYPE_CHECKING:
    from reports.stats import PowerPlan

#: The most estimation draws ``plan draws`` searches; the probability of certifying that
#: its second budget is for.
LIMIT, CERTAIN = 10**9, 0.9


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser("plan", help="sample sizes: test images for a gap, draws for a radius")
    kinds = p.add_subparsers(dest="kind", required=True)
    im = kinds.add_parser("images", help="test images needed to detect a gap")
    im.add_argument("--base", type=real_number, required=True, help="certified accuracy of one row")
    im.add_argument("--gap", type=real_number, required=True, help="difference to detect")
    im.add_argument(
        "--discordant",
        type=real_number,
        help="share of images certified by exactly one of the two rows (default: the gap "
        "itself, the least a gap of that size allows)",
    )
    im.add_argument("--power", type=real_number, default=0.8, help="power to reach (default 0.8)")
    im.add_argument(
        "--level", type=real_number, default=0.05, help="significance level (default 0.05)"
    )
    dr = kinds.add_parser("draws", help="Monte Carlo draws needed to certify a radius")
    dr.add_argument("--sigma", type=real_number, required=True, help="Gaussian noise sigma")
    dr.add_argument("--radius", type=real_number, required=True, help="l2 radius to certify")
    dr.add_argument("--p", type=real_number, required=True, help="true top-class probability")
    dr.add_argument("--alpha", type=real_number, default=None, help="default 0.001")
    return p


def _percent(p: float, gap: float) -> str:
    """``p`` in percent, with the decimals that tell it from ``p + gap`` (two at least)."""
    decimals = max(2, math.ceil(-math.log10(100 * abs(gap))) + 1)
    return f"{100 * p:.{decimals}f}%"


def main(args: argparse.Namespace) -> int:
    if args.kind == "images":
        return _images(args)
    return _draws(args)


def _images(args: argparse.Namespace) -> int:
    from reports import stats

    p2, p1 = args.base, args.base + args.gap
    if not (0 < p2 < 1 and 0 < p1 < 1) or args.gap == 0:
        hint = (
            f" (fractions, not percent: --base {args.base / 100:g} --gap {args.gap / 100:g})"
            if 1 < args.base <= 100
            else ""
        )
        raise ValueError(
            "--base and --base + --gap must lie in (0, 1), and --gap must not be 0" + hint
        )
    if not 0 < args.level < 1 or not 0 < args.power < 1:
        raise ValueError("--level and --power must lie in (0, 1)")
    disc = abs(args.gap) if args.discordant is None else args.discordant
    # images certified by row 1 only (b) and by row 2 only (c): d = b + c, gap = b - c;
    # b <= min(p1, 1 - p2) and c <= min(p2, 1 - p1) give d <= min(p1 + p2, 2 - p1 - p2)
    most = min(p1 + p2, 2.0 - p1 - p2)
    if not abs(args.gap) <= disc <= most + 1e-12:
        raise ValueError(
            f"--discordant must lie in [|gap|, {most:.6g}]: rows at {p2:g} and {p1:g} "
            f"certified accuracy can disagree on at most that share of images, got {disc}"
        )
    unpaired = stats.unpaired_sample_size(p1, p2, args.level, args.power)
    paired = stats.mcnemar_sample_size(
        (disc + args.gap) / 2, (disc - args.gap) / 2, args.level, args.power
    )
    print(
        f"to detect {_percent(p1, args.gap)} vs {_percent(p2, args.gap)} at level "
        f"{args.level:g}, power {args.power:g}:"
    )
    print(
        f"  paired (McNemar, {_percent(disc, args.gap)} discordant images): {paired.n:,} test "
        "images "
        f"({_power_at_n(paired)})"
    )
    print(
        f"  unpaired (two-proportion z-test, as papers use): {unpaired.n:,} images per arm "
        f"({_power_at_n(unpaired)})"
    )
    if args.discordant is None:
        print(
            "  the paired plan assumes the least discordance the gap allows (one row "
            "certifies every image the other does): real pairs of rows disagree on more "
            "images and need more; give --discordant from a pilot run's "
            "`smoothbench compare`"
        )
    return 0


def _power_at_n(plan: PowerPlan) -> str:
    """The power a plan reaches at its n, exact or approximate as the plan computed it."""
    return f"{'exact' if plan.exact else 'approximate'} power at that n: {plan.power:.3f}"


def _draws(args: argparse.Namespace) -> int:
    from scipy.stats import norm

    from certifiers.bounds import (
        DEFAULT_ALPHA,
        check_alpha,
        draws_certifying_from_on,
        draws_to_certify_with,
        estimation_draws_needed,
    )

    alpha = DEFAULT_ALPHA if args.alpha is None else args.alpha
    if not (0 < args.sigma < math.inf and 0 <= args.radius < math.inf):
        raise ValueError("--sigma must be a finite positive number, --radius a finite one >= 0")
    if not 0 < args.p <= 1:
        raise ValueError(f"--p must lie in (0, 1], got {args.p}")
    try:
        check_alpha(alpha)
    except ValueError as err:
        raise ValueError(f"--alpha: {err}") from None
    p_needed = float(norm.cdf(args.radius / args.sigma))
    gap = float(norm.sf(args.radius / args.sigma))  # 1 - p_needed, to its own precision
    written = f"1 - {gap:.3g}" if gap < 1e-4 else f"{p_needed:.6f}"
    print(f"radius {args.radius:g} with sigma {args.sigma:g} needs p_A >= {written}")
    if p_needed >= 1.0:
        print("  not reachable: p_A would have to be 1 to double precision")
        return 0
    least = estimation_draws_needed(1.0, p_needed, alpha, LIMIT)
    print(
        f"  any model needs {'more than' if least is None else 'at least'} "
        f"{LIMIT if least is None else least:,} estimation draws: fewer cannot show that p_A "
        "even with all of them on the top class (alpha^(1/n))"
    )
    if args.p <= p_needed:
        print(f"  not reachable: the top-class probability {args.p:.10g} is not above it")
        return 0
    n = estimation_draws_needed(args.p, p_needed, alpha, LIMIT)
    if n is None:
        print(f"  at p = {args.p:.10g}: more than {LIMIT:,} estimation draws")
        return 0
    sure = draws_certifying_from_on(CERTAIN, args.p, p_needed, alpha, LIMIT)
    fewest = draws_to_certify_with(CERTAIN, args.p, p_needed, alpha, LIMIT)
    if sure is None:
        said = f"{CERTAIN:.0%} of them need more than {LIMIT:,}"
    else:
        said = f"from {sure:,} on, every budget certifies it in at least {CERTAIN:.0%} of them"
        if fewest is not None and fewest < sure:  # the share zig-zags with n
            said += " (the share zig-zags with n: some smaller budgets reach it too)"
    print(
        f"  at p = {args.p:.10g}, alpha = {alpha:g}: about {n:,} estimation draws certify it "
        f"in half of the runs (the bound at the expected count reaches it); {said}"
    )
    return 0
