"""Monotone maps of a per-row statistic, tabulated once and evaluated on any device.

The radial couplings map one statistic of each base-draw row (``||G||_2^2``,
``||G||_inf``, the l1 norm of Laplace magnitudes) to the radius of the target law,
``phi = Q_out o F_in``, through quantile functions that exist only on the host (scipy).
``MonotoneTable`` evaluates ``phi`` inside the sampling loop with torch alone, so a batch
never leaves its device:

- nodes uniform in ``t = log s`` between the ``IN_TAIL`` quantiles of the input law, with
  ``log phi`` and its slope ``d log phi / d t`` (a fourth-order central difference of the
  exact map, step h / 8); inside, the cubic Hermite interpolant in ``(t, log phi)``; outside, the
  straight line through the end node with the end slope (in log-log coordinates the maps
  here are asymptotically straight in both tails, and the mass out there is below
  ``IN_TAIL`` on each side);
- nodes are doubled until the interpolant's error in ``log phi``, measured against the
  exact map at seven interior points of every cell, is below ``LOG_ERROR_TARGET`` (or
  stops shrinking: the exact map's own rounding).

**The stated bound.** Let ``e(t)`` be the error in ``log phi`` and ``p(t)`` the density of
``t`` under the input law. Since the map is monotone, the interpolated radius has the
target law up to a move of probability ``delta(t) = e(t) p(t) / (d log phi / d t)`` (the
Kolmogorov distance of the radius law is ``max |delta|``). Within a cell the cubic
interpolation error is one bump, so the total variation distance between the radius law
produced and the exact one is at most ``2 (cells) max |delta|`` plus the input mass
outside the table (``IN_TAIL`` on each side, more where the exact map is flat at an end
and the table is cut there); the
direction is exact and independent of the radius, so this bounds the distance of the
whole noise law. ``MonotoneTable.bound`` records these numbers (``max_log_error`` and
``max_probability_error`` are twice the largest values observed at the check points); the
tests check them again at independent random points.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import torch

from harness.noise.device import concrete_device

#: Probability left outside the table on each side of the input law.
IN_TAIL = 1e-30
#: Nodes are doubled until the largest error in ``log phi`` is below this (or stops
#: shrinking, at the exact map's own rounding, or reaches ``_MAX_NODES``).
LOG_ERROR_TARGET = 1e-12
#: The largest stated distance (total variation) a table may have from the exact law: a
#: shape so near its family's limit that the map cannot be tabulated closer is refused.
MAX_TV = 1e-5
_FURTHER = "choose parameters further from it"
_FIRST_NODES = 257
_MAX_NODES = 8193
_CHECKS = np.arange(1, 8) / 8.0
_FD_FRACTION = 1.0 / 8.0  # the difference step, as a fraction of the node spacing


class InputLaw(Protocol):
    """The law of the statistic a table takes (``harness.noise.coupling`` states three)."""

    def quantile(self, p: float, upper: bool) -> float:
        """The quantile at ``p`` (``upper``: at ``1 - p``)."""

    def tail(self, s: float, upper: bool) -> float:
        """``P(S <= s)`` (``upper``: ``P(S > s)``)."""

    def log_density_t(self, t: np.ndarray) -> np.ndarray:
        """The log density of ``t = log S``."""


class StatisticLaw(InputLaw, Protocol):
    """An ``InputLaw`` that also gives both tails at once, without cancellation."""

    def tails(self, s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(P(S <= s), P(S > s))``."""


@dataclass(frozen=True)
class TableBound:
    """The error a ``MonotoneTable`` makes, as stated in the module docstring."""

    nodes: int
    max_log_error: float
    max_probability_error: float
    outside_mass: float
    tv_bound: float

    def as_dict(self) -> dict[str, float]:
        return {
            "nodes": self.nodes,
            "max_log_error": self.max_log_error,
            "max_probability_error": self.max_probability_error,
            "outside_mass": self.outside_mass,
            "tv_bound": self.tv_bound,
        }


def _slopes(log_phi: Callable[[np.ndarray], np.ndarray], t: np.ndarray, h: float) -> np.ndarray:
    """The fourth-order central difference; NaN where the map is not finite (the caller
    refuses it)."""
    with np.errstate(invalid="ignore"):
        return (
            8.0 * (log_phi(t + h) - log_phi(t - h)) - (log_phi(t + 2 * h) - log_phi(t - 2 * h))
        ) / (12.0 * h)


def _hermite(y0, y1, m0, m1, h, f):
    """Cubic Hermite on a cell of width h at fraction f, and its derivative (numpy)."""
    f2, f3 = f * f, f * f * f
    value = (
        (2 * f3 - 3 * f2 + 1) * y0
        + (f3 - 2 * f2 + f) * h * m0
        + (-2 * f3 + 3 * f2) * y1
        + (f3 - f2) * h * m1
    )
    slope = (6 * f2 - 6 * f) * (y0 - y1) / h + (3 * f2 - 4 * f + 1) * m0 + (3 * f2 - 2 * f) * m1
    return value, slope


class MonotoneTable:
    """``log phi(s)`` for a positive monotone map of a positive statistic ``s``
    (increasing, or decreasing with ``decreasing=True``).

    ``exact(s)`` is the map on the host (numpy, float64); ``law`` the law of ``s``
    (``InputLaw``). ``log_phi`` evaluates the table on torch tensors.
    """

    def __init__(
        self,
        exact: Callable[[np.ndarray], np.ndarray],
        law: InputLaw,
        *,
        name: str = "map",
        decreasing: bool = False,
    ) -> None:
        self.name = name
        sign = -1.0 if decreasing else 1.0
        lo = math.log(law.quantile(IN_TAIL, False))
        hi = math.log(law.quantile(IN_TAIL, True))
        if not (math.isfinite(lo) and math.isfinite(hi) and hi > lo):
            raise ValueError(f"{name}: cannot place the table's range ({lo}, {hi})")
        in_log_density = law.log_density_t

        def log_phi(t: np.ndarray) -> np.ndarray:
            with np.errstate(divide="ignore"):
                return np.log(np.asarray(exact(np.exp(t)), dtype=np.float64))

        def rising(t: np.ndarray) -> np.ndarray:  # the map made increasing for the checks
            return sign * log_phi(t)

        # where the exact map is flat at an end (a host approximation clipped there), the
        # table starts where it rises; the mass cut off is added to the stated bound
        probe = np.linspace(lo, hi, 2049)
        with np.errstate(invalid="ignore"):  # a map not finite there is refused below
            rise = np.flatnonzero(np.diff(rising(probe)) > 0)
        if rise.size == 0:
            raise ValueError(f"{name}: the exact map is constant on the table's range")
        first, last = int(rise[0]), int(rise[-1]) + 1
        # cut a little inside a flat end, so that no difference stencil reaches the kink
        first = first + 3 if first > 0 else first
        last = last - 3 if last < probe.size - 1 else last
        lo, hi = float(probe[first]), float(probe[last])
        outside = max(IN_TAIL, law.tail(math.exp(lo), False)) + max(
            IN_TAIL, law.tail(math.exp(hi), True)
        )

        nodes, previous = _FIRST_NODES, math.inf
        while True:
            t = np.linspace(lo, hi, nodes)
            h = (hi - lo) / (nodes - 1)  # the step linspace adds, not t[1] - t[0]
            y = rising(t)
            m = _slopes(rising, t, _FD_FRACTION * h)
            if not (np.all(np.isfinite(y)) and np.all(np.isfinite(m))):
                raise ValueError(
                    f"{name}: the exact map is not finite on the table's range, so it cannot "
                    f"be tabulated (a shape near its family's limit); {_FURTHER}"
                )
            if np.any(np.diff(y) < -1e-14 * (1.0 + np.abs(y[1:]))) or np.any(m < -1e-9):
                raise ValueError(f"{name}: the exact map is not increasing")
            y = np.maximum.accumulate(y)  # where it is flat, rounding only
            m = np.maximum(m, 0.0)
            k = _CHECKS.size
            tc = (t[:-1, None] + h * _CHECKS[None, :]).ravel()
            approx, slope = _hermite(
                np.repeat(y[:-1], k),
                np.repeat(y[1:], k),
                np.repeat(m[:-1], k),
                np.repeat(m[1:], k),
                h,
                np.tile(_CHECKS, nodes - 1),
            )
            err = np.abs(approx - rising(tc))
            worst = float(err.max())
            if worst <= LOG_ERROR_TARGET or worst > previous / 4 or nodes >= _MAX_NODES:
                break
            nodes, previous = 2 * nodes - 1, worst
        if np.any(np.diff(approx) < -1e-14 * (1.0 + np.abs(approx[1:]))) or np.any(slope < -1e-9):
            raise ValueError(f"{name}: the interpolant is not monotone")
        # a move of probability delta = e p(t) / (d log phi / dt); where the map is flat
        # (slope ~ 0: a radius at its bound) the error in log phi is the error itself
        density = np.exp(in_log_density(tc))
        with np.errstate(divide="ignore", invalid="ignore"):
            prob = np.where(slope > 1e-8, err * density / slope, err * density * 1e8)
        # twice the largest error seen, and never below a few ulps of the values (the
        # exact map's own rounding)
        max_log = max(2.0 * worst, 8.0 * np.finfo(np.float64).eps * float(np.abs(y).max()))
        max_prob = float(prob.max()) * max_log / max(worst, 1e-300)
        tv = 2.0 * (nodes - 1) * max_prob + outside
        if not tv <= MAX_TV:
            raise ValueError(
                f"{name}: the table of this map is within {tv:.2g} of the exact law in total "
                f"variation, above the {MAX_TV:g} this tool allows (a shape near its family's "
                f"limit); {_FURTHER}"
            )
        self.bound = TableBound(nodes, max_log, max_prob, outside, tv)
        y, m = sign * y, sign * m
        self.t0, self.t1, self.h = float(t[0]), float(t[-1]), h
        # per cell: y(f) = c0 + f (c1 + f (c2 + f c3)), f in [0, 1]; one straight cell on
        # each side (c2 = c3 = 0) continues the end slope, so that one look-up serves both
        # the interpolation inside and the extrapolation outside
        y0, y1, m0, m1 = y[:-1], y[1:], m[:-1], m[1:]
        inner = np.stack(
            [y0, h * m0, 3 * (y1 - y0) - h * (2 * m0 + m1), 2 * (y0 - y1) + h * (m0 + m1)],
            axis=1,
        )
        left = [y[0] - h * m[0], h * m[0], 0.0, 0.0]  # at f = pos + 1
        right = [y[-1], h * m[-1], 0.0, 0.0]
        coeffs = np.concatenate([[left], inner, [right]])
        self._host = torch.from_numpy(np.ascontiguousarray(coeffs.T))
        self._cells = nodes - 1
        self._devices: dict[torch.device, torch.Tensor] = {}

    def prepare(self, device: torch.device | str) -> None:
        """Copy the table to ``device`` (before a sampling loop, so the loop copies nothing)."""
        device = concrete_device(device)
        if device not in self._devices:
            self._devices[device] = self._host.to(device)

    def log_phi(self, s: torch.Tensor) -> torch.Tensor:
        """``log phi(s)`` (float64) for a float64 tensor of positive ``s``, on its device."""
        return self.log_phi_of_log(torch.log(s))

    def log_phi_of_log(self, t: torch.Tensor) -> torch.Tensor:
        """``log phi`` at ``t = log s`` (1-D float64 tensor), on ``t``'s device."""
        coeffs = self._devices.get(t.device)
        if coeffs is None:
            self.prepare(t.device)
            coeffs = self._devices[t.device]
        # pos = (t - t0) / h; cell k = floor(pos) in [-1, cells] is row k + 1 of the table
        pos = torch.sub(t, self.t0).mul_(1.0 / self.h)
        k = torch.floor(pos).clamp_(-1.0, float(self._cells))
        f = pos.sub_(k)
        cell = k.add_(1.0).long()
        # one index_select per coefficient: 2.3x faster on a CPU than coeffs[:, cell]
        c = [torch.index_select(row, 0, cell) for row in coeffs]
        y = torch.addcmul(c[2], c[3], f)
        y = torch.addcmul(c[1], y, f)
        return torch.addcmul(c[0], y, f)

    def host_log_phi(self, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``log phi`` and its slope ``d log phi / dt`` at ``t = log s`` (numpy float64, on
        the host): the interpolant ``log_phi_of_log`` evaluates, with its derivative, so
        that the density of the law it produces can be checked."""
        coeffs = self._host.numpy()
        pos = (np.asarray(t, dtype=np.float64) - self.t0) / self.h
        k = np.clip(np.floor(pos), -1.0, float(self._cells))
        f = pos - k
        c0, c1, c2, c3 = coeffs[:, (k + 1).astype(np.int64)]
        value = c0 + f * (c1 + f * (c2 + f * c3))
        return value, (c1 + f * (2.0 * c2 + 3.0 * f * c3)) / self.h


_TABLES: dict[tuple[type, str, str], MonotoneTable] = {}


def cached_table(owner: object, kind: str, build: Callable[[], MonotoneTable]) -> MonotoneTable:
    """The table ``kind`` of a noise (keyed by its class and name), built once a process."""
    key = (type(owner), getattr(owner, "name", repr(owner)), kind)
    table = _TABLES.get(key)
    if table is None:
        table = _TABLES[key] = build()
    return table


class TabulatedRadius:
    """For the radial families (``SphericalNoise``, ``LinfRadialNoise``): the radius is
    the family's radius quantile at the probability of one row statistic of the base
    draws (``statistic_law``: ``||G||_2^2`` or ``||G||_inf``), evaluated on the device
    through a ``MonotoneTable`` built once a process, with its stated error bound."""

    name: str

    def statistic_law(self) -> StatisticLaw:
        """The law of the row statistic the radius is a function of."""
        raise NotImplementedError

    def radius_quantile(self, lower: np.ndarray, upper: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def radius_table(self) -> MonotoneTable:
        """``statistic -> radius``: the radius quantile at the statistic's probability."""

        def build() -> MonotoneTable:
            law = self.statistic_law()
            return MonotoneTable(
                lambda s: self.radius_quantile(*law.tails(s)), law, name=f"{self.name} radius"
            )

        return cached_table(self, "radius", build)

    def prepare(self, device: torch.device | str) -> None:
        self.radius_table().prepare(device)

    def approximation(self) -> dict[str, Any] | None:
        return {"radius table": self.radius_table().bound.as_dict()}
