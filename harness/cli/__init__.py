"""The ``smoothbench`` command line: one module a command (``harness/cli/<command>.py``),
each with ``add_parser(subparsers)`` and ``main(args) -> exit code``; ``COMMANDS`` lists
them in help order."""

from __future__ import annotations

import argparse
import sys
from importlib import import_module

COMMANDS = ("run", "certify", "report", "compare", "plan", "import", "export", "list")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="smoothbench",
        description="Certified-robustness benchmarking by randomized smoothing, "
        "on shared seeded Monte Carlo draws.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    for name in COMMANDS:
        module = import_module(f"harness.cli.{name.replace('-', '_')}_command")
        p = module.add_parser(sub)
        p.set_defaults(func=module.main)
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
