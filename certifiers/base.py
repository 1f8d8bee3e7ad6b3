"""The certifier interface: a lower bound p_A on the top-class probability -> a radius.

A certifier never runs a model (IBP aside, which receives it explicitly). ``radius``
validates its input, abstains (radius 0) where ``p_A <= 1/2``, and hands the
remaining probabilities to ``_radius`` as a float64 array.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import ClassVar

import numpy as np
from numpy.typing import ArrayLike

from harness.noise import Noise

NORMS: tuple[str, ...] = ("l1", "l2", "linf")


class UnsupportedError(ValueError):
    """The certifier has no certificate for this (noise, norm) pair."""


def check_norm(norm: object) -> str:
    if not isinstance(norm, str) or norm not in NORMS:
        raise ValueError(f"unknown norm {norm!r}; use one of {NORMS}")
    return norm


def check_probabilities(p: ArrayLike, name: str = "p_lower") -> np.ndarray:
    """Return ``p`` as a float64 array, refusing NaN and values outside [0, 1]."""
    if isinstance(p, str | bytes):
        raise TypeError(f"{name} must be a number or an array of numbers, got a string")
    try:
        arr = np.asarray(p, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise TypeError(f"{name} must be a number or an array of numbers: {err}") from None
    if np.isnan(arr).any():
        raise ValueError(f"{name} contains NaN")
    if ((arr < 0) | (arr > 1)).any():
        bad = arr[(arr < 0) | (arr > 1)].ravel()[0]
        raise ValueError(f"{name} must lie in [0, 1], got {bad!r}")
    return arr


class Certifier(ABC):
    """Base class of all count-based certifiers.

    Subclasses set ``name`` (through ``@certifiers.register``), implement
    ``supports(noise, norm)`` and ``_radius(noise, p, norm)`` for ``p > 1/2``.
    """

    name: ClassVar[str] = "certifier"
    #: Certifiers computed by Monte Carlo spend part of the confidence budget; they
    #: report it here so that the store and the report can state it.
    deterministic: ClassVar[bool] = True

    @abstractmethod
    def supports(self, noise: Noise, norm: str) -> bool:
        """Whether a certificate exists for this noise against this norm."""

    @abstractmethod
    def _radius(self, noise: Noise, p: np.ndarray, norm: str) -> np.ndarray:
        """Radii for a 1-D float64 array ``p`` with every entry in (1/2, 1]."""

    def confidence_spent(self, noise: Noise, norm: str) -> float:
        """Failure probability the certifier itself spends (e.g. on its own Monte Carlo
        integration), on top of the ``alpha`` of ``p_lower``; 0 for exact certifiers.
        The store records it next to each certificate and the report states it."""
        return 0.0

    def radius(self, noise: Noise, p_lower: ArrayLike, norm: str = "l2") -> float | np.ndarray:
        """Certified radius for each lower bound ``p_lower``; 0.0 where ``p_lower <= 1/2``.

        Scalar in, float out; array in, array of the same shape out.
        """
        check_norm(norm)
        if not isinstance(noise, Noise):
            raise TypeError(f"noise must be a harness.noise.Noise, got {type(noise).__name__}")
        if not self.supports(noise, norm):
            raise UnsupportedError(
                f"certifier {self.name!r} does not certify {noise.name} against {norm}"
            )
        p = check_probabilities(p_lower)
        out = np.zeros(p.shape, dtype=np.float64)
        mask = p > 0.5
        if mask.any():
            r = np.asarray(self._radius(noise, p[mask], norm), dtype=np.float64)
            if np.isnan(r).any() or (r < 0).any():
                raise ArithmeticError(f"{self.name} produced an invalid radius for {noise.name}")
            out[mask] = r
        if out.ndim == 0:
            return float(out)
        return out

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other)

    def __hash__(self) -> int:
        return hash(type(self))
