"""Validation of noise parameters: each check returns the value as a float (or int) and
raises ``TypeError`` for a wrong type, ``ValueError`` for a value out of range, naming the
parameter."""

from __future__ import annotations

import math
from typing import Any


def check_real(name: str, value: Any) -> float:
    """A finite real number (not a bool) as a float."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__}")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value!r}")
    return value


def check_positive_finite(name: str, value: Any) -> float:
    """A positive, finite real parameter as a float."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__}")
    value = float(value)
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be positive and finite, got {value!r}")
    return value


def check_nonnegative_finite(name: str, value: Any) -> float:
    """A non-negative, finite real parameter as a float."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__}")
    value = float(value)
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"{name} must be non-negative and finite, got {value!r}")
    return value


def check_dim(dim: Any) -> int:
    """The data dimension ``d >= 1``."""
    if isinstance(dim, bool) or not isinstance(dim, int):
        raise TypeError(f"dim must be an int, got {type(dim).__name__}")
    if dim < 1:
        raise ValueError(f"dim must be >= 1, got {dim}")
    return dim


def check_exponent(k: Any, dim: int) -> float:
    """The radial exponent ``0 <= k < dim`` (a density ``~ ||z||^{-k}`` is integrable at
    the origin exactly when ``k < dim``)."""
    if isinstance(k, bool) or not isinstance(k, int | float):
        raise TypeError(f"k must be a real number, got {type(k).__name__}")
    k = float(k)
    if not math.isfinite(k) or k < 0 or k >= dim:
        raise ValueError(f"k must satisfy 0 <= k < dim = {dim}, got {k!r}")
    return k
