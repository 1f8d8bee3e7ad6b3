"""Whether a store's data are the official test set that published numbers were made on.

A run on another copy (a CIFAR-10 test batch of another md5, re-packed or altered; an
ImageNet val folder without all 50,000 images, whose indices then name other images) is
reproducible but not comparable with the papers: the loader says so when it reads the
data (``baselines.datasets.Dataset.caveat``), the runner records it in the manifest
(``data_caveat``), and the report puts it among its warnings and beside the published
numbers (for a store written before that key, from its CIFAR-10 md5).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from smoothbench.official_data import CIFAR10_TEST_MD5


def data_caveat(manifest: Mapping[str, Any]) -> str | None:
    """Why the store's results are not comparable with published ones, or None. A store
    written before the manifest held ``data_caveat`` is judged by its CIFAR-10 md5."""
    if "data_caveat" in manifest:
        return manifest["data_caveat"] or None
    checksum = manifest.get("data_checksum")
    official = f"md5:{CIFAR10_TEST_MD5}"
    if manifest.get("dataset") == "cifar10" and checksum and checksum != official:
        return (
            f"the CIFAR-10 test batch read has {checksum}, not the official {official}; "
            "its results are not comparable with published ones"
        )
    return None


def data_caveat_warnings(manifest: Mapping[str, Any]) -> list[str]:
    """The report's warning line, where there is a caveat."""
    caveat = data_caveat(manifest)
    return [f"not the official test data: {caveat}"] if caveat else []


def imported_label_warnings(imported: pd.DataFrame, counts: pd.DataFrame) -> list[str]:
    """One line per imported file whose label for an image index differs from the run's:
    the file indexes another order or copy of the test set, so that its image-by-image
    comparisons with the run pair different images. ``smoothbench import`` refuses such a
    file into a store that holds the run; this catches a run made after the import."""
    if imported.empty or counts.empty:
        return []
    ours = counts[["image", "label"]].drop_duplicates("image").rename(columns={"label": "ours"})
    both = imported[["source", "image", "label"]].merge(ours, on="image")
    differ = both[both["label"] != both["ours"]]
    out = []
    for source, rows in differ.groupby("source", sort=True):
        first = rows.sort_values("image").iloc[0]
        out.append(
            f"imported {source} gives {rows['image'].nunique()} of its images other labels "
            f"than the run (image {int(first['image'])}: {int(first['label'])} there, "
            f"{int(first['ours'])} here): it indexes another order or copy of the test set, "
            "so its comparisons with the run pair different images"
        )
    return out
