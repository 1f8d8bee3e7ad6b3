"""``smoothbench export cohen-tsv STORE [--out DIR]``: a store's smoothing certificates as
Cohen et al.'s certify TSVs (one file per model, noise, certifier, norm and alpha, and an
``index.json``). The store of an unfinished run is exported as it is, with a warning on
stderr for each gap (images not sampled, certificate groups or images not certified),
which ``index.json`` records too (``complete``, ``warnings``). Exporting again into a folder
replaces the earlier export: the TSV files of its ``index.json`` that this store no longer
holds are deleted. The report's soundness gate runs first (unless ``--no-soundness``):
each file's entry in ``index.json`` says what it found, and an unsound, unchecked or not
checked certifier is warned about. Deterministic certificates (``ibp``, ``crown``) have
no noise and no alpha, which the format needs: they are not exported, and the command says
how many stay behind."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from smoothbench.output_folder import check_output_folder


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "export",
        help="write a store's smoothing certificates as Cohen et al.'s TSVs (not ibp or crown)",
    )
    p.add_argument("kind", choices=["cohen-tsv"], help="the file format")
    p.add_argument("store", type=Path, help="SQLite store of a run")
    p.add_argument("--out", type=Path, help="output folder (default out/<store>-cohen-tsv)")
    p.add_argument(
        "--no-soundness",
        action="store_true",
        help="skip the soundness gate (index.json then says soundness null, and warns)",
    )
    return p


def soundness_of_groups(store) -> dict[tuple[str, str, str, str, float], str]:
    """The report's soundness gate (``reports.sanity.soundness.soundness_by_row``) on the
    store's certificates, per ``(model, noise, certifier, norm, alpha)``, its pieces in
    parallel with a progress bar."""
    from reports.parallel import run_all
    from reports.sanity import SanityInputs
    from reports.sanity.soundness import soundness_by_row

    verdicts = soundness_by_row(
        SanityInputs.from_store(store), run=lambda tasks: run_all(tasks, desc="soundness")
    )
    return {
        (model, noise, cert, norm, alpha): verdict
        for (_, norm, alpha, model, noise, cert), verdict in verdicts.items()
    }


def main(args: argparse.Namespace) -> int:
    from harness.interop.exporting import write_cohen_tsv
    from harness.store import Store

    out = check_output_folder(args.out or Path("out") / f"{args.store.stem}-cohen-tsv")
    with Store.open_existing(args.store, readonly=True) as store:
        soundness = None if args.no_soundness else soundness_of_groups(store)
        export = write_cohen_tsv(store, out, soundness=soundness)
        kept = (
            store.query("SELECT certifier, COUNT(*) FROM deterministic_radii GROUP BY certifier")
            if store.has_table("deterministic_radii")
            else []
        )
    for line in export.warnings:
        print(f"smoothbench export: warning: {line}", file=sys.stderr)
    if export.removed:
        print(
            f"removed {len(export.removed)} TSV files of an earlier export to {out} that this "
            "store no longer holds"
        )
    partial = "" if export.complete else " (incomplete: see the warnings, and index.json)"
    print(f"wrote {len(export.paths)} TSV files and index.json to {out}{partial}")
    if kept:
        which = ", ".join(f"{n} of {name}" for name, n in sorted(kept))
        print(
            f"not exported: the deterministic radii ({which}), which have no noise and no "
            "alpha for the format to name; the store keeps them"
        )
    return 0
