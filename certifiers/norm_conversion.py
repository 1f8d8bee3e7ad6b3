"""Converting a certified radius between l_p norms.

If every ``delta`` with ``||delta||_p <= R_p`` is certified, then so is every ``delta`` with
``||delta||_q <= R_p / C``, where ``C = d^{max(0, 1/p - 1/q)}`` is the smallest constant with
``||delta||_p <= C ||delta||_q`` on R^d (Hoelder; e.g. ``||d||_2 <= sqrt(d) ||d||_inf``,
``||d||_1 <= sqrt(d) ||d||_2``, ``||d||_2 <= ||d||_1``). Yang et al. 2020 ("Randomized
smoothing of all shapes and sizes") state it as ``||d||_q <= d^{1/q - 1/p} ||d||_p``.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

_INV = {"l1": 1.0, "l2": 0.5, "linf": 0.0}


def conversion_factor(native: str, target: str, dim: int) -> float:
    """``C`` with ``||delta||_native <= C ||delta||_target`` for all delta in R^dim."""
    if native not in _INV or target not in _INV:
        raise ValueError(f"unknown norm in ({native!r}, {target!r})")
    if dim < 1:
        raise ValueError(f"dim must be >= 1, got {dim}")
    return float(dim) ** max(0.0, _INV[native] - _INV[target])


def convert(radius: np.ndarray, native: str, target: str, dim: int) -> np.ndarray:
    """A radius certified in ``native`` expressed as a radius certified in ``target``."""
    return np.asarray(radius, dtype=np.float64) / conversion_factor(native, target, dim)


def best_of(radii: Mapping[str, np.ndarray], target: str, dim: int) -> np.ndarray:
    """The largest ``target`` radius implied by any of the natively certified ``radii``."""
    if not radii:
        raise ValueError("no native certificate to convert")
    converted = [convert(r, native, target, dim) for native, r in radii.items()]
    return np.maximum.reduce(converted)
