"""Conservative radius tables: p -> R, built once per noise, cached on disk.

A table holds pairs ``(p_j, R_j)`` meaning "at ``p_A >= p_j`` the radius ``R_j`` is
certified". Lookup returns, for each ``p``, the largest ``R_j`` with ``p_j <= p``
(0 when there is none). Because every pair is a valid certificate on its own, and a
certificate valid at ``p_j`` is valid at every ``p >= p_j``, the lookup never
overestimates the radius of the function it tabulates: it never interpolates upward
and never extrapolates beyond the last pair. Accuracy is that of the grid.

Tables are cached as ``.npz`` under the user cache folder (``smoothbench.cache``), keyed
by a sha256 of the key a certifier supplies (family, parameters, dim, norm and its code
version), of the source of the code that computes tables (``source_digest``: the
``certifiers`` and ``harness.noise`` packages) and of the versions of the libraries that
compute with it (``library_versions``: numpy, scipy, torch), so that a table built by
other code, an older or an edited version, or on other special functions, is never
served: it could certify a radius the code in use would not.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import json
from collections.abc import Callable, Iterable
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from smoothbench.atomic import atomic_path
from smoothbench.cache import cache_dir


class RadiusTable:
    """A monotone, conservative lookup ``p -> R`` from certified pairs ``(p_j, R_j)``."""

    def __init__(self, p: np.ndarray, radius: np.ndarray) -> None:
        p = np.asarray(p, dtype=np.float64).ravel()
        r = np.asarray(radius, dtype=np.float64).ravel()
        if p.shape != r.shape or p.size == 0:
            raise ValueError("p and radius must be non-empty arrays of the same length")
        if np.isnan(p).any() or np.isnan(r).any() or (r < 0).any():
            raise ValueError("a radius table needs finite p and non-negative radii")
        order = np.argsort(p, kind="stable")
        p, r = p[order], r[order]
        # Each pair certifies R_j for every p >= p_j, so the best radius certified at
        # p_j is the running maximum of the radii of all pairs at or below it.
        self.p = p
        self.radius = np.maximum.accumulate(r)

    def __call__(self, p: np.ndarray | float) -> np.ndarray:
        q = np.asarray(p, dtype=np.float64)
        idx = np.searchsorted(self.p, q, side="right") - 1
        out = np.where(idx >= 0, self.radius[np.clip(idx, 0, None)], 0.0)
        return out

    def save(self, path: Path) -> None:
        with atomic_path(path) as tmp, open(tmp, "wb") as fh:
            np.savez(fh, p=self.p, radius=self.radius)

    @classmethod
    def load(cls, path: Path) -> RadiusTable:
        with np.load(path) as data:
            return cls(data["p"], data["radius"])


#: The packages whose code computes the tables (the certifiers and the noise laws).
TABLE_SOURCES = ("certifiers", "harness.noise")


def tree_digest(roots: Iterable[Path]) -> str:
    """A sha256 of every ``.py`` file under ``roots``: their paths (relative to their
    root) and their bytes, in a fixed order."""
    digest = hashlib.sha256()
    for root in roots:
        for path in sorted(Path(root).rglob("*.py")):
            digest.update(path.relative_to(root).as_posix().encode() + b"\0")
            digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()[:24]


@lru_cache(maxsize=1)
def source_digest() -> str:
    """``tree_digest`` of the ``TABLE_SOURCES`` packages as installed (read once a
    process): any edit to them rebuilds every cached table once."""
    roots = []
    for package in TABLE_SOURCES:
        spec = importlib.util.find_spec(package)
        if spec is not None and spec.submodule_search_locations:
            roots.extend(Path(p) for p in spec.submodule_search_locations)
    return tree_digest(roots)


#: The libraries whose functions compute tables (quantiles, special functions, integrals).
TABLE_LIBRARIES = ("numpy", "scipy", "torch")


@lru_cache(maxsize=1)
def library_versions() -> dict[str, str]:
    """The installed version of each of ``TABLE_LIBRARIES`` (part of every table's key)."""
    return {name: str(importlib.import_module(name).__version__) for name in TABLE_LIBRARIES}


def table_key_hash(key: dict[str, Any]) -> str:
    blob = json.dumps(key, sort_keys=True, default=repr).encode()
    return hashlib.sha256(blob).hexdigest()[:24]


_MEMORY: dict[str, RadiusTable] = {}


def cached_table(
    key: dict[str, Any], build: Callable[[], tuple[np.ndarray, np.ndarray]]
) -> RadiusTable:
    """The table for ``key``: from memory, else from the disk cache, else ``build()``.

    ``key`` must identify everything the table depends on, including a code version
    that the certifier bumps whenever its mathematics changes; ``source_digest()`` and
    ``library_versions()`` are added to it here.
    """
    key = {**key, "sources": source_digest(), "libraries": library_versions()}
    digest = table_key_hash(key)
    if digest in _MEMORY:
        return _MEMORY[digest]
    path = cache_dir("tables") / f"{digest}.npz"
    table = None
    if path.exists():
        try:
            table = RadiusTable.load(path)
        except Exception:  # zipfile.BadZipFile, EOFError, zlib errors, ... as well
            table = None  # a corrupt cache entry is rebuilt, never trusted
    if table is None:
        table = RadiusTable(*build())
        table.save(path)
        path.with_suffix(".json").write_text(json.dumps(key, sort_keys=True, default=repr))
    _MEMORY[digest] = table
    return table
