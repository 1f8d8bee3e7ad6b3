"""The ``smoothbench`` command line: run, certify, report, list."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from certifiers.base import NORMS


def _cmd_run(args: argparse.Namespace) -> int:
    from harness import config, runner

    cfg = config.load(args.config)
    store = args.store or Path("out") / f"{cfg.name}.sqlite"
    path = runner.run(
        cfg, store, device=args.device, progress=not args.quiet, certify=not args.no_certify
    )
    print(f"counts and certificates in {path}")
    return 0


def _cmd_certify(args: argparse.Namespace) -> int:
    from harness.certify import certify_store
    from harness.store import Store

    with Store.open_existing(args.store) as store:
        n = certify_store(
            store,
            args.certifier or ["all"],
            args.norm or NORMS,
            args.alpha or [0.001],
            progress=not args.quiet,
        )
    print(f"wrote {n} certificates to {args.store}")
    return 0


def _cmd_report(args: argparse.Namespace) -> int:
    from reports.cli import report_main

    return report_main(args)


def _cmd_list(args: argparse.Namespace) -> int:
    import certifiers
    from harness.noise import noise_families

    print("certifiers:", ", ".join(certifiers.available()))
    print("noise families:", ", ".join(noise_families()))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="smoothbench",
        description="Certified-robustness benchmarking by randomized smoothing, "
        "on shared seeded Monte Carlo draws.",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("run", help="sample counts for a config, then certify them (resumable)")
    p.add_argument("config", type=Path, help="experiment config (TOML), e.g. configs/default.toml")
    p.add_argument("--store", type=Path, help="SQLite store (default out/<name>.sqlite)")
    p.add_argument("--device", help="cpu, cuda, cuda:1, ... (default: the config's, else auto)")
    p.add_argument("--no-certify", action="store_true", help="only sample counts")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.set_defaults(func=_cmd_run)

    p = sub.add_parser("certify", help="recompute certificates from stored counts")
    p.add_argument("store", type=Path)
    p.add_argument("--alpha", type=float, action="append", help="repeatable; default 0.001")
    p.add_argument("--certifier", action="append", help="repeatable; default all")
    p.add_argument("--norm", action="append", choices=NORMS, help="repeatable; default all")
    p.add_argument("--quiet", action="store_true")
    p.set_defaults(func=_cmd_certify)

    p = sub.add_parser("report", help="leaderboards, statistics and plots from a store")
    p.add_argument("store", type=Path)
    p.add_argument("--out", type=Path, default=Path("out"), help="output folder (default out/)")
    p.add_argument(
        "--reference",
        default=None,
        help="reference certifier (default: the run config's [report].reference, else cohen)",
    )
    p.add_argument(
        "--radii",
        type=float,
        nargs="+",
        help="radius grid for every norm (default: the config's [report].radii, else built-in)",
    )
    p.add_argument(
        "--format",
        nargs="+",
        default=None,
        help="md, html, csv, latex, json, plots (default: all)",
    )
    p.set_defaults(func=_cmd_report)

    p = sub.add_parser("list", help="registered certifiers and noise families")
    p.set_defaults(func=_cmd_list)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (ValueError, TypeError, FileNotFoundError) as err:
        print(f"smoothbench {args.command}: error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
