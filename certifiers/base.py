"""The certifier interface: a lower bound p_A on the top-class probability -> a radius.

A certifier states what it certifies as data: ``certificates``, a table from
``(noise family, norm)`` to a ``Certificate`` (the radius function, the condition on the
noise's parameters under which it applies, and the confidence it spends beyond alpha).
``supports``, ``confidence_spent`` and ``is_exact`` derive from the table, so adding a
noise to a certifier is one entry, and a noise unknown to a certifier is unsupported.

``radius`` validates its input, abstains (radius 0) where ``p_A <= 1/2``, hands the
remaining probabilities to the entry's radius function as a float64 array. A certifier
never runs a model (the deterministic ones aside, which receive it explicitly).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

import numpy as np
from numpy.typing import ArrayLike

from certifiers.radius_values import float64_not_above
from harness.noise import Noise
from smoothbench.names import unknown_name

NORMS: tuple[str, ...] = ("l1", "l2", "linf")

#: Every radius is multiplied by ``1 - RADIUS_ROUND_DOWN`` (four units in the last place),
#: so that float rounding in a closed form (``ndtri``, a product) never makes a
#: certificate larger than the exact one (subnormal radii, where a relative change cannot
#: act, are 0).
RADIUS_ROUND_DOWN = 4 * float(np.finfo(np.float64).eps)


class UnsupportedError(ValueError):
    """The certifier has no certificate for this (noise, norm) pair."""


def check_norm(norm: object) -> str:
    if not isinstance(norm, str) or norm not in NORMS:
        raise ValueError(unknown_name("norm", norm, NORMS))
    return norm


def _shown(value: object) -> str:
    """``repr(value)`` on one line, at most 60 characters (for error messages)."""
    return " ".join(repr(value).split())[:60]


def check_probabilities(
    p: ArrayLike, name: str = "p_lower", bound: Literal["lower", "upper"] = "lower"
) -> np.ndarray:
    """Return ``p`` as a float64 array, refusing what is not a real number (None, bools,
    strings, complex numbers, objects), NaN and values outside [0, 1]. ``p`` is a
    ``bound`` on a probability: a wider float (``np.longdouble``) is narrowed toward the
    safe side (a lower bound down, an upper bound up), never to the nearest float64,
    which can round ``1 - 2^-60`` up to 1 and give an infinite radius."""
    if p is None or isinstance(p, str | bytes | bool | np.bool_):
        raise TypeError(f"{name} must be a real number or an array of them, got {_shown(p)}")
    raw = np.asarray(p)
    if raw.dtype.kind not in "iuf":
        raise TypeError(
            f"{name} must be a real number or an array of them, got dtype {raw.dtype} ({_shown(p)})"
        )
    if np.isnan(raw).any():
        raise ValueError(f"{name} contains NaN")
    if ((raw < 0) | (raw > 1)).any():
        bad = raw[(raw < 0) | (raw > 1)].ravel()[0]
        raise ValueError(f"{name} must lie in [0, 1], got {bad!r}")
    arr = raw.astype(np.float64)
    if raw.dtype.kind == "f" and raw.dtype.itemsize > 8:
        back = arr.astype(raw.dtype)
        if bound == "lower":
            arr = np.where(back > raw, np.nextafter(arr, -np.inf), arr)
        else:
            arr = np.where(back < raw, np.nextafter(arr, np.inf), arr)
    return arr


def checked_radii(
    certifier: object, noise: Noise, norm: str, p_lower: np.ndarray, radii: ArrayLike
) -> np.ndarray:
    """``radii``, as a float64 array, if they are certificates a certifier may issue at
    ``p_lower``: one real number per ``p_lower`` (a narrower or wider float than float64
    read as one not above it: ``float64_not_above``), none NaN or negative, 0 where
    ``p_lower <= 1/2`` (the smoothed classifier abstains) and finite where ``p_lower < 1``
    (only ``p_A = 1`` certifies every radius); else an ``ArithmeticError`` or ``TypeError``
    naming the certifier. The harness applies it to what every certifier returns before
    it stores a row, so that a certifier overriding ``Certifier.radius`` is held to the
    rules that method enforces."""
    name = getattr(certifier, "name", type(certifier).__name__)
    who = f"certifier {name!r} ({type(certifier).__module__})"
    p = np.asarray(p_lower, dtype=np.float64)
    raw = np.asarray(radii)
    if raw.shape != p.shape or raw.dtype.kind not in "fiuO":
        raise TypeError(
            f"{who} returned radii of shape {raw.shape} and dtype {raw.dtype} for "
            f"{p.size} probabilities ({noise.name}, {norm}): one real radius per p_lower"
        )
    try:  # a list's text and booleans (which numpy reads as numbers) refused one by one
        r = float64_not_above(radii)
    except (TypeError, ValueError) as err:
        raise TypeError(
            f"{who} returned radii that are not real numbers ({noise.name}, {norm}): {err}"
        ) from None
    rules = (
        (np.isnan(r) | (r < 0), "a radius must be >= 0, never NaN"),
        ((p <= 0.5) & (r != 0), "at p_lower <= 1/2 the smoothed classifier abstains: radius 0"),
        (
            np.isinf(r) & (p < 1),
            "overflowed to an infinite radius at p_lower < 1, which only p_lower = 1 "
            "certifies (the noise's scale may be too large for float64)",
        ),
    )
    for bad, rule in rules:
        if bad.any():
            at = np.flatnonzero(bad)
            raise ArithmeticError(
                f"{who} produced an invalid radius {float(r.flat[at[0]])!r} at p_lower = "
                f"{float(p.flat[at[0]])!r} for {noise.name} against {norm} ({at.size} of "
                f"{r.size}): {rule}"
            )
    return r


def checked_confidence_spent(certifier: object, noise: Noise, norm: str, spent: object) -> float:
    """``spent``, the failure probability a certificate spends beyond alpha, as a float,
    if it is one: a real number (anything ``float()`` takes but text and booleans) in
    [0, 1); else a ``TypeError`` or ``ValueError`` naming the certifier."""
    name = getattr(certifier, "name", type(certifier).__name__)
    try:
        if isinstance(spent, bool | np.bool_ | str | bytes):
            raise TypeError
        value = float(spent)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise TypeError(
            f"certifier {name!r} ({type(certifier).__module__}) spends {_shown(spent)} beyond "
            f"alpha on {noise.name} against {norm}: a probability is a real number"
        ) from None
    if not 0.0 <= value < 1.0:
        raise ValueError(
            f"certifier {name!r} ({type(certifier).__module__}) spends {value!r} beyond alpha "
            f"on {noise.name} against {norm}: the confidence spent lies in [0, 1)"
        )
    return value


def _always(noise: Noise) -> bool:
    return True


RadiusFunction = Callable[[Any, Noise, np.ndarray], np.ndarray]
"""``radius(certifier, noise, p)``: radii for a float64 array ``p`` in (1/2, 1]."""


#: The arguments each function of a ``Certificate`` is called with.
_SIGNATURES = {
    "radius": ("certifier", "noise", "p"),
    "applies": ("noise",),
    "spends": ("certifier", "noise"),
}


@dataclass(frozen=True)
class Certificate:
    """How a certifier certifies one (noise family, norm) pair.

    ``radius(certifier, noise, p)`` computes the radii; ``applies(noise)`` restricts the
    entry to the parameters where it holds (default: all); ``spends(certifier, noise)``
    is the failure probability the certificate spends on top of the alpha of p_A (its own
    Monte Carlo), 0 for an exact certificate."""

    radius: RadiusFunction
    applies: Callable[[Noise], bool] = _always
    spends: Callable[[Any, Noise], float] | None = None

    def __post_init__(self) -> None:
        """A function that cannot take its arguments is refused where the table is written
        (at import), not at its first radius."""
        for what, names in _SIGNATURES.items():
            fn = getattr(self, what)
            if fn is None:
                continue
            if not callable(fn):
                raise TypeError(f"Certificate.{what} must be callable, got {fn!r}")
            try:
                inspect.signature(fn).bind(*names)
            except TypeError as err:
                raise TypeError(
                    f"Certificate.{what} {getattr(fn, '__qualname__', fn)!r} must take "
                    f"{len(names)} positional arguments ({', '.join(names)}): {err}"
                ) from None
            except ValueError:  # a builtin without a signature: it will say at its call
                continue


class Certifier:
    """Base class of the count-based certifiers.

    Subclasses are registered with ``@certifiers.register("name")`` and fill the class
    table ``certificates``. Options (e.g. a Monte Carlo budget) are constructor keyword
    arguments, returned by ``options()`` so that a store can record them.
    """

    name: ClassVar[str] = "certifier"
    certificates: ClassVar[Mapping[tuple[str, str], Certificate]] = {}

    def options(self) -> dict[str, Any]:
        """The constructor options of this instance (JSON-serialisable)."""
        return {}

    def certificate(self, noise: Noise, norm: str) -> Certificate | None:
        """The table entry for ``(noise.family, norm)``, if it applies to ``noise``."""
        if not isinstance(noise, Noise):
            return None
        entry = self.certificates.get((noise.family, norm))
        if entry is None:
            return None
        try:
            applies = entry.applies(noise)
        except Exception as err:  # a plugin's condition: name it, wherever it is asked
            raise ValueError(
                f"certifier {self.name!r} ({type(self).__module__}): the condition of its "
                f"certificate for {noise.name} against {norm} failed: "
                f"{type(err).__name__}: {err}"
            ) from err
        return entry if applies else None

    def supports(self, noise: Noise, norm: str) -> bool:
        """Whether a certificate exists for this noise against this norm."""
        return self.certificate(noise, norm) is not None

    def confidence_spent(self, noise: Noise, norm: str) -> float:
        """Failure probability the certifier itself spends (e.g. on its own Monte Carlo
        integration), on top of the ``alpha`` of ``p_lower``; 0 for exact certificates.
        The store records it next to each certificate and the report states it."""
        entry = self.certificate(noise, norm)
        if entry is None or entry.spends is None:
            return 0.0
        return float(entry.spends(self, noise))

    def is_exact(self, noise: Noise, norm: str) -> bool:
        """True when the certificate is a deterministic function of p_A (no extra
        confidence spent), so that a report can recompute it bit for bit."""
        return self.confidence_spent(noise, norm) == 0.0

    def _radius(self, noise: Noise, p: np.ndarray, norm: str) -> np.ndarray:
        """Radii for a 1-D float64 array ``p`` with every entry in (1/2, 1]."""
        entry = self.certificate(noise, norm)
        assert entry is not None  # radius() checked supports()
        return entry.radius(self, noise, p)

    def radius(self, noise: Noise, p_lower: ArrayLike, norm: str = "l2") -> float | np.ndarray:
        """Certified radius for each lower bound ``p_lower``; 0.0 where ``p_lower <= 1/2``.

        Scalar in, float out; array in, array of the same shape out. Radii are rounded
        toward zero by ``RADIUS_ROUND_DOWN``; a radius below the smallest normal float64
        (``2.2e-308``, noise scales near 1e-300) is 0.
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
            with np.errstate(over="ignore"):  # an overflow is refused just below
                raw = self._radius(noise, p[mask], norm)
            # one real radius per p (a broadcast, complex or text result would be read as
            # radii of other probabilities, or cast without a word), >= 0, finite below 1
            r = checked_radii(self, noise, norm, p[mask], raw)
            r = r * (1.0 - RADIUS_ROUND_DOWN)
            # a subnormal radius was rounded on an absolute grid that the relative round-down
            # cannot move (up to 31% too large at sigma = 1.5e-323): 0 is always sound
            out[mask] = np.where(r < np.finfo(np.float64).tiny, 0.0, r)
        if out.ndim == 0:
            return float(out)
        return out

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.options().items())
        return f"{type(self).__name__}({args})"

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other) and self.options() == other.options()

    def __hash__(self) -> int:
        return hash(type(self))
