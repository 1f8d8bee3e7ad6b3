"""A store -> Cohen et al.'s certify TSVs, one file per (model, noise, certifier, norm,
alpha), so that other codebases' tools read smoothbench's results.

    OUT/certified/<model>/<noise>/<certifier>_<norm>_alpha<alpha>.tsv   rows certified here
    OUT/imported/<model>/<noise>/<certifier>_<norm>_alpha<alpha>.tsv    rows imported earlier
    OUT/index.json   each file with its dataset, model, noise (and spec), certifier, norm,
                     alpha and origin; ``smoothbench import`` reads it back

Folder names keep letters, digits and ``._-=,`` (``gaussian(dim=3072,sigma=0.25)`` becomes
``gaussian_dim=3072,sigma=0.25_``); the index holds the exact names. Radii are rounded
down to 3 significant digits (``cohen_tsv.format_radius``); ``time`` is the sampling time
of the image under that noise.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from pathlib import Path
from typing import Any

from harness.interop.cohen_tsv import TsvRow, write_tsv
from harness.interop.importing import INDEX_FILE
from harness.store import Store
from smoothbench.atomic import write_atomic

_UNSAFE = re.compile(r"[^A-Za-z0-9._=,-]")


def safe_name(name: str) -> str:
    """A folder name for ``name``: characters other than letters, digits and ``._=,-``
    become ``_``."""
    out = _UNSAFE.sub("_", name)
    return out if out.strip("._") else "_" + out


def export_cohen_tsv(store: Store, out: str | Path) -> list[Path]:
    """Write every certificate group of ``store`` under ``out``; returns the paths."""
    out = Path(out)
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
    for r in store.imported_rows():
        key = ("imported", r.dataset, r.model, r.noise, r.certifier, r.norm, r.alpha)
        groups[key].append(TsvRow(r.image, r.label, r.prediction, r.radius, r.correct, r.seconds))
    written: list[Path] = []
    index: list[dict[str, Any]] = []
    for key in sorted(groups, key=lambda k: tuple(str(x) for x in k)):
        origin, data, model, noise, cert, norm, alpha = key
        # repr: the shortest text that reads back as this alpha, so two alphas never share a file
        name = f"{cert}_{norm}_alpha{float(alpha)!r}.tsv"
        rel = Path(origin, safe_name(model), safe_name(noise), name)
        if out / rel in written:
            raise ValueError(f"two groups of certificates would both be written to {rel}")
        written.append(write_tsv(out / rel, groups[key]))
        index.append(
            {
                "file": rel.as_posix(), "origin": origin, "dataset": data, "model": model,
                "noise": noise, "spec": specs.get(noise), "certifier": cert, "norm": norm,
                "alpha": alpha, "rows": len(groups[key]),
            }
        )  # fmt: skip
    write_atomic(
        out / INDEX_FILE,
        json.dumps({"format": "cohen-tsv", "files": index}, indent=1, sort_keys=True) + "\n",
    )
    return written
