"""``smoothbench export cohen-tsv STORE [--out DIR]``: a store's certificates as Cohen et
al.'s certify TSVs (one file per model, noise, certifier, norm and alpha, and an
``index.json``)."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser("export", help="write a store's certificates as Cohen et al.'s TSVs")
    p.add_argument("kind", choices=["cohen-tsv"], help="the file format")
    p.add_argument("store", type=Path)
    p.add_argument("--out", type=Path, help="output folder (default out/<store>-cohen-tsv)")
    return p


def main(args: argparse.Namespace) -> int:
    from harness.interop.exporting import export_cohen_tsv
    from harness.store import Store

    out = args.out or Path("out") / f"{args.store.stem}-cohen-tsv"
    with Store.open_existing(args.store, readonly=True) as store:
        paths = export_cohen_tsv(store, out)
    print(f"wrote {len(paths)} TSV files and index.json to {out}")
    return 0
