"""``smoothbench compare STORE``: two rows of a leaderboard image by image.

    smoothbench compare STORE --first MODEL NOISE CERTIFIER --second MODEL NOISE CERTIFIER
                        --norm l2 --radius 0.5 [--alpha 0.001]

NOISE is a stored noise name, its family with some of its parameters
(``generalized_gaussian(k=16)`` or ``generalized_gaussian:k=16``), or a part of a name,
that matches a single noise of the model; ``none`` for a deterministic row (ibp, crown).
Imported rows are named as the leaderboard names them; where a run's row and an imported
one share model, noise and certifier, ``--first-kind`` / ``--second-kind`` choose
(``smoothing``, ``imported`` or ``deterministic``). Prints the McNemar test at the radius
and every discordant image (certified by one row only) with both rows' p_A (none for a
row without counts) and radius.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from harness.cli.parser import real_number


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser("compare", help="two rows image by image: the discordant images")
    p.add_argument("store", type=Path, help="SQLite store of a run")
    row = "a row: a stored model, a noise (a name, its family with parameters, or a part of "
    p.add_argument(
        "--first",
        nargs=3,
        metavar=("MODEL", "NOISE", "CERTIFIER"),
        required=True,
        help=row + "a name that matches one noise) and a certifier",
    )
    p.add_argument(
        "--second",
        nargs=3,
        metavar=("MODEL", "NOISE", "CERTIFIER"),
        required=True,
        help="the row to compare it with, given the same way",
    )
    p.add_argument("--norm", choices=("l1", "l2", "linf"), required=True, help="the radii's norm")
    p.add_argument(
        "--radius", type=real_number, required=True, help="certified accuracy is compared at it"
    )
    p.add_argument("--alpha", type=real_number, help="default: the only stored alpha")
    kinds = ("smoothing", "imported", "deterministic")
    for which in ("first", "second"):
        p.add_argument(
            f"--{which}-kind",
            choices=kinds,
            help=f"the {which} row's kind, where its names hold several (a run's row and an "
            "imported one of the same names); deterministic rows (ibp, crown) have noise none",
        )
    return p


def main(args: argparse.Namespace) -> int:
    from reports.discordant import compare_rows_by_image

    table, summary = compare_rows_by_image(
        args.store, tuple(args.first), tuple(args.second), args.norm, args.radius, args.alpha,
        (args.first_kind, args.second_kind),
    )  # fmt: skip
    print(summary)
    if not table.empty:
        print(table.to_string(index=False, na_rep="-"))  # no p_A: an imported or ibp row
    return 0
