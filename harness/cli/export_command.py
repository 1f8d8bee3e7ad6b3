"""``smoothbench export cohen-tsv STORE [--out DIR]``: a store's smoothing certificates as
Cohen et al.'s certify TSVs (one file per model, noise, certifier, norm and alpha, and an
``index.json``). The store of an unfinished run is exported as it is, with a warning on
stderr for each gap (images not sampled, certificate groups or images not certified),
which ``index.json`` records too (``complete``, ``warnings``). Exporting again into a folder
replaces the earlier export: the TSV files of its ``index.json`` that this store no longer
holds are deleted. Deterministic certificates (``ibp``, ``crown``) have no noise and no
alpha, which the format needs: they are not exported, and the command says how many stay
behind."""

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
    p.add_argument("store", type=Path)
    p.add_argument("--out", type=Path, help="output folder (default out/<store>-cohen-tsv)")
    return p


def soundness_of_groups(store) -> dict[tuple[str, str, str, str, float], str]:
    """The report's soundness gate (``reports.sanity.soundness``) on the store's
    certificates: per ``(model, noise, certifier, norm, alpha)``, ``"checked"``,
    ``"unsound: ..."`` (the gate's first reason for that certifier) or ``"unchecked:
    ..."`` (its noise family not registered here: a plugin not given)."""
    from reports.sanity import SanityContext, SanityInputs
    from reports.sanity.soundness import Soundness

    inputs = SanityInputs.from_store(store)
    if inputs.outcomes.empty:
        return {}
    gate = Soundness().run(inputs, SanityContext())
    reasons = {}
    for line in gate.details:
        cert, _, rest = line.partition(": UNSOUND: ")
        if rest:
            reasons.setdefault(cert, rest)
    out = {}
    for key, _ in inputs.outcomes.groupby(
        ["dataset", "norm", "alpha", "model", "noise", "certifier"]
    ):
        dataset, norm, alpha, model, noise, cert = key
        row = (str(dataset), str(norm), float(alpha), str(model), str(noise), str(cert))
        if row in gate.affected:
            verdict = f"unsound: {reasons.get(cert, gate.summary)}"
        elif row in gate.unchecked:
            verdict = f"unchecked: {gate.unchecked[row]}"
        else:
            verdict = "checked"
        out[(str(model), str(noise), str(cert), str(norm), float(alpha))] = verdict
    return out


def main(args: argparse.Namespace) -> int:
    from harness.interop.exporting import write_cohen_tsv
    from harness.store import Store

    out = check_output_folder(args.out or Path("out") / f"{args.store.stem}-cohen-tsv")
    with Store.open_existing(args.store, readonly=True) as store:
        export = write_cohen_tsv(store, out, soundness=soundness_of_groups(store))
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
