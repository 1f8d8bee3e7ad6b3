"""A store -> Cohen et al.'s certify TSVs, one file per (model, noise, certifier, norm,
alpha), so that other codebases' tools read smoothbench's results.

    OUT/certified/<model>/<noise>/<certifier>_<norm>_alpha<alpha>.tsv   rows certified here
    OUT/imported/<model>/<noise>/<certifier>_<norm>_alpha<alpha>.tsv    rows imported earlier
    OUT/index.json   each file with its dataset, model, noise (and spec), certifier, norm,
                     alpha, origin, rows, images, whether it is complete, its soundness
                     and the confidence its certificates spend beyond alpha (the
                     largest of the file's; a Monte Carlo certifier's own);
                     ``smoothbench import`` reads it back

Exporting again into the same folder replaces the earlier export: the TSV files its
``index.json`` lists and this export does not write (a certifier, alpha or noise no longer
in the store) are deleted, so that no file left from an earlier store is read as this
one's (``Export.removed``). Files the earlier index does not list are left alone.

Soundness: the caller states it per certified group (``soundness``: ``smoothbench export``
runs the report's soundness gate, ``reports.sanity.soundness.soundness_by_row``, on the
store first); each certified file of index.json records ``soundness`` (``"checked"``,
``"unsound: ..."``, ``"unchecked: ..."``, ``"not checked: ..."``, ``"nothing to check:
..."``, or null where the caller checked nothing, which a warning says), and every
certifier with an unsound, unchecked or not checked file gets a warning line, so that
radii a plugin certifies falsely never leave the store unmarked.

A store of an interrupted run is exported as it is, and says so: index.json holds
``complete`` (false when the run's images are not all sampled, a certificate group the run
makes is missing, or a file lacks images of the run), ``images_planned`` (the run's index
set), ``images_sampled`` (per smoothed model) and ``warnings`` (one line per gap, which
``smoothbench export`` prints on stderr). A certified file is ``complete`` when it holds
every image of the run (every sampled image where the store records no index set); an
imported file's ``complete`` is null: its images were chosen elsewhere.

Folder names keep letters, digits and ``._-=,`` (``gaussian(dim=3072,sigma=0.25)`` becomes
``gaussian_dim=3072,sigma=0.25_``); the index holds the exact names. Radii are rounded
down to 3 significant digits (``cohen_tsv.format_radius``); ``time`` is the sampling time
of the image under that noise.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.certificate_groups import expected_groups
from harness.interop.cohen_tsv import TsvRow, write_tsv
from harness.interop.importing import INDEX_FILE, MOVING
from harness.sampling_progress import sampling_progress
from harness.store import Store, imported_spent
from smoothbench.atomic import write_atomic
from smoothbench.names import first_few
from smoothbench.output_folder import files_listed_below, move_in, remove_outputs, staged_output

_UNSAFE = re.compile(r"[^A-Za-z0-9._=,-]")


def safe_name(name: str) -> str:
    """A folder name for ``name``: characters other than letters, digits and ``._=,-``
    become ``_``."""
    out = _UNSAFE.sub("_", name)
    return out if out.strip("._") else "_" + out


@dataclass
class Export:
    """What ``write_cohen_tsv`` wrote: the TSV paths, whether the certified files hold
    every image and certificate group of the run, and one line per gap."""

    paths: list[Path] = field(default_factory=list)
    complete: bool = True
    warnings: list[str] = field(default_factory=list)
    removed: list[Path] = field(default_factory=list)


def export_cohen_tsv(store: Store, out: str | Path) -> list[Path]:
    """Write every certificate group of ``store`` under ``out``; returns the paths."""
    return write_cohen_tsv(store, out).paths


def _earlier_files(out: Path) -> set[Path]:
    """The TSV files an earlier export's ``index.json`` in ``out`` lists (none when there
    is no readable index), those below ``out`` only."""
    try:
        names = [entry["file"] for entry in json.loads((out / INDEX_FILE).read_text())["files"]]
    except (OSError, ValueError, KeyError, TypeError):
        return set()
    return files_listed_below(out, names, {".tsv"})


def write_cohen_tsv(
    store: Store,
    out: str | Path,
    soundness: Mapping[tuple[str, str, str, str, float], str] | None = None,
) -> Export:
    """Write every certificate group of ``store`` under ``out``, and ``index.json`` with
    the completeness of the export and ``soundness`` (``(model, noise, certifier, norm,
    alpha)`` to the gate's verdict, ``reports.sanity.soundness.soundness_by_row``'s; None:
    not checked, which a warning says; module docstring). The files are written to a
    staging folder first and moved into place once all are written
    (``staged_output``): an export that fails part-way replaces none of an earlier
    export's files, and its ``index.json`` stays true. While they move in and the earlier
    ones are deleted (milliseconds), ``index.json`` lists the earlier export's files and
    these, and says so (``MOVING``)."""
    out = Path(out)
    with staged_output(out) as stage:
        return _export(store, out, stage, soundness)


def _export(
    store: Store,
    out: Path,
    stage: Path,
    soundness: Mapping[tuple[str, str, str, str, float], str] | None,
) -> Export:
    unchecked = soundness is None
    soundness = dict(soundness or {})
    earlier = _earlier_files(out)
    dataset = store.get_manifest("dataset")
    specs = store.noise_specs()
    groups: dict[tuple[str, ...], list[TsvRow]] = defaultdict(list)
    certified = store.query(
        "SELECT c.model, c.noise, c.certifier, c.norm, c.alpha, c.image, k.label,"
        " c.prediction, c.radius, c.correct, k.seconds FROM certificates c"
        " JOIN counts k ON k.model = c.model AND k.noise = c.noise AND k.image = c.image"
    )
    for model, noise, cert, norm, alpha, image, label, pred, radius, ok, sec in certified:
        key = ("certified", dataset, model, noise, cert, norm, alpha)
        groups[key].append(TsvRow(image, label, pred, radius, bool(ok), sec))
    spent: dict[tuple[str, ...], float] = {
        ("certified", dataset, *group): float(value)
        for *group, value in store.query(
            "SELECT model, noise, certifier, norm, alpha, MAX(confidence_spent)"
            " FROM certificates GROUP BY model, noise, certifier, norm, alpha"
        )
    }
    imported = imported_spent(store.get_manifest("imported_confidence_spent"))
    for r in store.imported_rows():
        key = ("imported", r.dataset, r.model, r.noise, r.certifier, r.norm, r.alpha)
        groups[key].append(TsvRow(r.image, r.label, r.prediction, r.radius, r.correct, r.seconds))
        of = (r.model, r.noise, r.certifier, r.norm, float(r.alpha), r.source)
        spent[key] = max(spent.get(key, 0.0), imported.get(of, 0.0))
    # what a complete file holds: the run's index set, else every image sampled
    index_set = store.get_manifest("index_set")
    planned = None if index_set is None else {int(i) for i in index_set}
    sampled: dict[tuple[str, str], set[int]] = defaultdict(set)
    for model, noise, image in store.query("SELECT model, noise, image FROM counts"):
        sampled[(model, noise)].add(int(image))
    progress = sampling_progress(store)
    result = Export()
    if (line := progress.warning()) is not None:
        result.warnings.append(line)
    have = {(m, nz, c, nm, float(a)) for (o, _, m, nz, c, nm, a) in groups if o == "certified"}
    missing = sorted(expected_groups(store) - have, key=lambda k: tuple(map(str, k)))
    if missing:
        total = len(missing) + len(have)
        pairs = sorted({f"{m} / {nz} / {c}" for m, nz, c, _, _ in missing})
        result.warnings.append(
            f"certification incomplete: {len(pairs)} (model, noise, certifier) groups have no "
            f"certificates, so {len(missing)} of {total} TSV files are missing "
            f"({first_few(pairs)}); `smoothbench certify {store.path}` completes them"
        )
    written: list[Path] = []
    index: list[dict[str, Any]] = []
    short_files: list[str] = []
    uncertified = 0
    for key in sorted(groups, key=lambda k: tuple(str(x) for x in k)):
        origin, data, model, noise, cert, norm, alpha = key
        # repr: the shortest text that reads back as this alpha, so two alphas never share a file
        name = f"{cert}_{norm}_alpha{float(alpha)!r}.tsv"
        rel = Path(origin, safe_name(model), safe_name(noise), name)
        if out / rel in written:
            raise ValueError(f"two groups of certificates would both be written to {rel}")
        write_tsv(stage / rel, groups[key])
        written.append(out / rel)
        images = {row.idx for row in groups[key]}
        complete: bool | None = None
        if origin == "certified":
            run = planned if planned is not None else sampled[(model, noise)]
            complete = run <= images
            if not complete:
                short_files.append(rel.as_posix())
            uncertified += len(sampled[(model, noise)] - images)
        verdict = (
            soundness.get((model, noise, cert, norm, float(alpha)))
            if origin == "certified"
            else None
        )
        index.append(
            {
                "file": rel.as_posix(), "origin": origin, "dataset": data, "model": model,
                "noise": noise, "spec": specs.get(noise), "certifier": cert, "norm": norm,
                "alpha": alpha, "rows": len(groups[key]), "images": len(images),
                "complete": complete, "soundness": verdict,
                "confidence_spent": spent.get(key, 0.0),
            }
        )  # fmt: skip
    if uncertified:
        result.warnings.append(
            f"certification incomplete: {uncertified} certificates of sampled images are "
            f"missing from TSV files that hold others; `smoothbench certify {store.path}` "
            "completes them"
        )
    if short_files:
        of = f" of the run's {len(planned)}" if planned is not None else " sampled"
        result.warnings.append(
            f"{len(short_files)} of {sum(1 for k in groups if k[0] == 'certified')} certified "
            f"TSV files hold fewer than all{of} images ({first_few(short_files, 2)}): "
            "compare them with published tables only as partial results"
        )
    if not groups and not result.warnings:
        why = "no counts" if not sampled else "counts but no certificates"
        result.warnings.append(f"the store holds {why}: no TSV file is written")
    result.paths = written
    result.complete = not result.warnings
    flagged: dict[str, set[str]] = defaultdict(set)
    for (_, _, cert, _, _), verdict in soundness.items():
        if not verdict.startswith(("checked", "nothing to check")):
            flagged[cert].add(verdict)
    result.warnings[:0] = [
        f"certifier {cert}: {'; '.join(sorted(why))}" for cert, why in sorted(flagged.items())
    ]
    if unchecked and groups:
        result.warnings.insert(
            0,
            "soundness not checked by this export (each file's soundness is null): "
            f"`smoothbench report {store.path}` checks it",
        )
    both = sorted({p.relative_to(out).as_posix() for p in (*earlier, *written)})
    interim = {"format": "cohen-tsv", "files": [{"file": f} for f in both], MOVING: True}
    move_in(
        stage, out, lambda: write_atomic(out / INDEX_FILE, json.dumps(interim, indent=1) + "\n")
    )
    # while the interim index lists them: a stop here leaves them for the next export to
    # delete, not unlisted for good
    result.removed.extend(remove_outputs(out, earlier - set(written)))
    write_atomic(
        out / INDEX_FILE,
        json.dumps(
            {
                "format": "cohen-tsv", "files": index, "complete": result.complete,
                "images_planned": None if planned is None else len(planned),
                "images_sampled": progress.sampled, "warnings": result.warnings,
            },
            indent=1,
            sort_keys=True,
        )
        + "\n",
    )  # fmt: skip
    return result
