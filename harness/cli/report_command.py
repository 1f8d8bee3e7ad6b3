"""``smoothbench report STORE``: leaderboards, statistics and plots from a store."""

from __future__ import annotations

import argparse
from pathlib import Path

from harness.cli.parser import real_number
from harness.host_memory import add_keep_freed_memory_option


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser("report", help="leaderboards, statistics and plots from a store")
    p.add_argument("store", type=Path, help="SQLite store of a run (or of imported results)")
    p.add_argument("--out", type=Path, default=Path("out"), help="output folder (default out/)")
    p.add_argument(
        "--reference",
        default=None,
        help="reference certifier (default: the run config's [report].reference, else cohen)",
    )
    p.add_argument(
        "--radii",
        nargs="+",
        metavar="R | NORM=R,R,...",
        help="radius grid: numbers for every norm, NORM=R,R,... for one norm's, e.g. "
        "--radii l2=0.25,0.5,1 linf=0.004,0.008 (default: the config's [report].radii, else "
        "built-in)",
    )
    p.add_argument(
        "--alpha", type=real_number, help="only this alpha (default: every stored alpha)"
    )
    p.add_argument("--certifier", nargs="+", help="only these certifiers")
    p.add_argument("--model", nargs="+", help="only these models")
    p.add_argument("--norm", nargs="+", choices=("l1", "l2", "linf"), help="only these norms")
    p.add_argument(
        "--format",
        nargs="+",
        default=None,
        help="md, html, csv, latex, json, plots (default: all)",
    )
    add_keep_freed_memory_option(
        p,
        "the Monte Carlo sanity checks then stop page-faulting their multi-megabyte arrays "
        "back at every shift",
    )
    return p


def main(args: argparse.Namespace) -> int:
    from baselines.published import published_records
    from harness.host_memory import keep_freed_memory
    from reports.cli import report_main

    if args.keep_freed_memory:
        keep_freed_memory()  # before the checks' worker processes fork
    args.published = published_records()
    return report_main(args)
