"""Validation of noise parameters: each check returns the value as a float (or int) and
raises ``TypeError`` for a wrong type, ``ValueError`` for a value out of range, naming the
parameter. Numpy scalars are numbers like any other; a value too large for a float is out
of range."""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np


def _as_float(name: str, value: Any) -> float:
    if isinstance(value, bool | np.bool_) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__}")
    try:
        return float(value) + 0.0  # -0.0 is 0.0: one name, one hash for equal noises
    except OverflowError:
        raise ValueError(f"{name} must be finite, got {value!r}") from None


def check_real(name: str, value: Any) -> float:
    """A finite real number (not a bool) as a float."""
    value = _as_float(name, value)
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value!r}")
    return value


def check_positive_finite(name: str, value: Any) -> float:
    """A positive, finite real parameter as a float."""
    value = _as_float(name, value)
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be positive and finite, got {value!r}")
    return value


def check_nonnegative_finite(name: str, value: Any) -> float:
    """A non-negative, finite real parameter as a float."""
    value = _as_float(name, value)
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"{name} must be non-negative and finite, got {value!r}")
    return value


def check_dim(dim: Any) -> int:
    """The data dimension ``d >= 1``, as an int."""
    if isinstance(dim, bool | np.bool_) or not isinstance(dim, numbers.Integral):
        raise TypeError(f"dim must be an int, got {type(dim).__name__}")
    if dim < 1:
        raise ValueError(f"dim must be >= 1, got {dim}")
    return int(dim)


def check_exponent(k: Any, dim: int) -> float:
    """The radial exponent ``0 <= k < dim`` (a density ``~ ||z||^{-k}`` is integrable at
    the origin exactly when ``k < dim``)."""
    k = _as_float("k", k)
    if not math.isfinite(k) or k < 0 or k >= dim:
        raise ValueError(f"k must satisfy 0 <= k < dim = {dim}, got {k!r}")
    return k
