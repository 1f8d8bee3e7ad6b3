"""``smoothbench import cohen-tsv FILE... --store STORE``: results made elsewhere (Cohen
et al.'s certify TSV) into a store, beside (and image by image comparable with) a run's.

Model, noise, certifier, norm, alpha and dataset come from the options, else from the
``index.json`` of ``smoothbench export``, else from Cohen et al.'s folder layout
(``<dataset>/<network>/noise_<s>/test/sigma_<s>``: Gaussian, cohen, l2, alpha 0.001).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from certifiers.base import NORMS
from harness.cli.parser import real_number


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "import",
        help="import certificates made elsewhere (Cohen et al.'s certify TSV) into a store",
    )
    p.add_argument("kind", choices=["cohen-tsv"], help="the file format")
    p.add_argument("files", type=Path, nargs="+", help="certify TSV files")
    p.add_argument("--store", type=Path, required=True, help="SQLite store (created if new)")
    p.add_argument("--model", help="model name (default: inferred from the path)")
    p.add_argument(
        "--noise",
        help="family:param=value,... (e.g. gaussian:sigma=0.25, or gaussian(sigma=0.25)) or a "
        "noise name of the store",
    )
    p.add_argument("--certifier", help="certifier name (default: cohen for Cohen's layout)")
    p.add_argument("--norm", choices=NORMS, help="default: l2 for Cohen's layout")
    p.add_argument("--alpha", type=real_number, help="default: 0.001 for Cohen's layout")
    p.add_argument("--dataset", help="cifar10, imagenet, digits (default: inferred)")
    return p


def main(args: argparse.Namespace) -> int:
    from harness.interop.importing import ImportOptions, import_cohen_tsv
    from harness.store import Store, remove_store_files

    options = ImportOptions(
        args.model, args.noise, args.certifier, args.norm, args.alpha, args.dataset
    )
    created = not args.store.exists()
    store = Store(args.store)
    try:
        done = import_cohen_tsv(store, args.files, options)
    except BaseException:
        store.close()
        if created:  # a refused import leaves no empty store behind
            remove_store_files(args.store)
        raise
    store.close()
    for f in done:
        print(
            f"{f.source}: {f.rows} rows as model {f.model}, noise {f.noise}, "
            f"{f.certifier} {f.norm} alpha {f.alpha:g} ({f.dataset})"
            + (
                "; radii printed to 3 digits (rounded to the nearest), stored as the "
                "smallest value each stands for"
                if f.lowered
                else ""
            )
        )
    for f in done:
        if f.incomplete:
            print(
                f"smoothbench import: warning: {f.source}: its export listed it as "
                "incomplete (its run had not sampled or certified all of its images); the "
                "report says so and compares it on the images it holds",
                file=sys.stderr,
            )
    print(
        f"imported {sum(f.rows for f in done)} rows into {args.store} "
        "(no counts: they cannot be recertified)"
    )
    return 0
