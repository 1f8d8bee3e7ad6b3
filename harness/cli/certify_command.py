"""``smoothbench certify STORE``: recompute certificates from the stored counts."""

from __future__ import annotations

import argparse
from pathlib import Path

from certifiers.base import NORMS


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser("certify", help="recompute certificates from stored counts")
    p.add_argument("store", type=Path)
    p.add_argument("--alpha", type=float, action="append", help="repeatable; default 0.001")
    p.add_argument("--certifier", action="append", help="repeatable; default all")
    p.add_argument("--norm", action="append", choices=NORMS, help="repeatable; default all")
    p.add_argument("--quiet", action="store_true")
    return p


def main(args: argparse.Namespace) -> int:
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
