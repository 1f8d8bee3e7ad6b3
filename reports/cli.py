"""``smoothbench report``: everything the report writes, from one store."""

from __future__ import annotations

import argparse

from reports.leaderboard import leaderboard, write_leaderboard
from reports.tidy import load_outcomes


def report_main(args: argparse.Namespace) -> int:
    outcomes = load_outcomes(args.store)
    if outcomes.empty:
        raise ValueError(f"{args.store} holds no certificates; run 'smoothbench certify' first")
    radii = None
    if args.radii:
        radii = {norm: tuple(args.radii) for norm in outcomes["norm"].unique()}
    board = leaderboard(outcomes, radii)
    for path in write_leaderboard(board, args.out):
        print(f"wrote {path}")
    return 0
