"""Whether a store's data are the official test set that published numbers were made on.

A run on another copy (a CIFAR-10 test batch of another md5, re-packed or altered; an
ImageNet val folder without all 50,000 images, whose indices then name other images) is
reproducible but not comparable with the papers: the loader says so when it reads the
data (``baselines.datasets.Dataset.caveat``), the runner records it in the manifest
(``data_caveat``), and the report puts it among its warnings and beside the published
numbers.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def data_caveat(manifest: Mapping[str, Any]) -> str | None:
    """Why the store's results are not comparable with published ones, or None."""
    return manifest.get("data_caveat") or None


def data_caveat_warnings(manifest: Mapping[str, Any]) -> list[str]:
    """The report's warning line, where there is a caveat."""
    caveat = data_caveat(manifest)
    return [f"not the official test data: {caveat}"] if caveat else []
