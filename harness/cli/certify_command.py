"""``smoothbench certify STORE``: recompute certificates from the stored counts."""

from __future__ import annotations

import argparse
from pathlib import Path

from certifiers.base import NORMS
from certifiers.bounds import DEFAULT_ALPHA


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser("certify", help="recompute certificates from stored counts")
    p.add_argument("store", type=Path)
    p.add_argument(
        "--alpha", type=float, action="append", help="repeatable; default: the run config's"
    )
    p.add_argument("--certifier", action="append", help="repeatable; default: the run config's")
    p.add_argument(
        "--norm", action="append", choices=NORMS, help="repeatable; default: the run config's"
    )
    p.add_argument("--quiet", action="store_true")
    return p


def main(args: argparse.Namespace) -> int:
    from harness.certify import certify_store
    from harness.store import Store

    with Store.open_existing(args.store) as store:
        stored = (store.get_manifest("config") or {}).get("certify") or {}
        n = certify_store(
            store,
            args.certifier or stored.get("certifiers") or ["all"],
            args.norm or stored.get("norms") or NORMS,
            args.alpha or stored.get("alpha") or [DEFAULT_ALPHA],
            progress=not args.quiet,
            options=stored.get("options"),
        )
    print(f"wrote {n} certificates to {args.store}")
    return 0
