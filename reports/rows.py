"""Leaderboard rows: per-image outcomes of one (model, noise, certifier) on one board.

A row holds its images and, per image, the radius, correctness, abstention and p_A, so
every statistic (certified accuracy, ACR, the paired tests) is computed from one place.
Certifiers that give the same outcome on every image of the same (model, noise) are one
row listing them all (on Gaussian noise, ``cohen = functional = wulff =
fdiv-hockey-stick``): their rows would be copies.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from reports.labels import certifier_label, noise_labels

RowKey = tuple[str, str, str]  # (model, noise, first certifier)

#: Radii within this relative distance count as equal (numerical round-down of certifiers
#: that compute the same bound by different means).
SAME_RADIUS_RTOL = 1e-7
SAME_RADIUS_ATOL = 1e-9


@dataclass(eq=False)  # rows hold arrays: identity is equality
class Row:
    """One leaderboard row (see the module docstring)."""

    model: str
    noise: str
    certifiers: tuple[str, ...]
    family: str
    label: str
    images: np.ndarray
    radius: np.ndarray
    correct: np.ndarray
    abstained: np.ndarray
    p_lower: np.ndarray
    seconds: float
    confidence_spent: float
    kind: str = "smoothing"
    notes: list[str] = field(default_factory=list)
    #: the largest radius the row can certify with its draws (``reports.reach``); None
    #: where not known (rows not sampled here)
    reach: float | None = None

    @property
    def key(self) -> RowKey:
        """``(model, noise, first certifier)``, the certifier tagged with the row's kind
        where it is not sampled here (an imported row beside the run's own)."""
        cert = self.certifiers[0]
        return (
            self.model,
            self.noise,
            cert if self.kind == "smoothing" else f"{cert} [{self.kind}]",
        )

    @property
    def certifier(self) -> str:
        return certifier_label(self.certifiers)

    @property
    def certifier_short(self) -> str:
        """The first certifier, and how many more give the same radii: ``cohen +3``."""
        more = len(self.certifiers) - 1
        return self.certifiers[0] + (f" +{more}" if more else "")

    @property
    def n(self) -> int:
        return int(self.images.size)

    def beyond_reach(self, radius: float | None) -> bool:
        """Whether ``radius`` lies beyond the row's reach: its draws cannot certify any
        image there (False where the radius or the reach is not known)."""
        return radius is not None and self.reach is not None and radius > self.reach

    def certified(self, r: float) -> np.ndarray:
        """Per image: not abstained, correct, radius >= r."""
        return self.counted() & (self.radius >= r)

    def certified_on(self, grid: np.ndarray) -> np.ndarray:
        """:meth:`certified` at every radius of ``grid``: shape ``(len(grid), n)``."""
        return self.counted()[None, :] & (self.radius[None, :] >= np.asarray(grid)[:, None])

    def score(self) -> np.ndarray:
        """Per image: ``radius x correct``, 0 where abstained (its mean is the ACR)."""
        return np.where(self.counted(), self.radius, 0.0)

    def counted(self) -> np.ndarray:
        """Per image: correct and not abstained. ``reports.tidy`` already sets ``correct``
        False for an abstention; a row built from other tables must not depend on it."""
        return self.correct & ~self.abstained

    def on(self, images: np.ndarray) -> Row:
        """The row restricted to ``images`` (a subset of its own, sorted)."""
        pos = np.searchsorted(self.images, images)
        return Row(
            self.model, self.noise, self.certifiers, self.family, self.label,
            images, self.radius[pos], self.correct[pos], self.abstained[pos],
            self.p_lower[pos], self.seconds, self.confidence_spent, self.kind, self.notes,
            self.reach,
        )  # fmt: skip

    def full_label(self) -> str:
        """Model, shown label and certifier: an imported row reads apart from the run's
        row of the same model, noise and certifier."""
        return f"{self.model} · {self.shown_label} · {self.certifier}"

    @property
    def shown_label(self) -> str:
        """The label tables and plots show: the noise label, with its kind where the row
        is neither smoothing nor deterministic (whose label, "no smoothing", says so)."""
        if self.kind in ("smoothing", "deterministic"):
            return self.label
        return f"{self.label} ({self.kind})"


def shared_images(rows: Sequence[Row]) -> np.ndarray:
    """The images every row has (paired tests use these)."""
    if not rows:
        return np.zeros(0, dtype=np.int64)
    common = rows[0].images
    for row in rows[1:]:
        common = np.intersect1d(common, row.images)
    return common


def _same(a: Row, b: Row) -> bool:
    if not np.array_equal(a.images, b.images) or not np.array_equal(a.correct, b.correct):
        return False
    tol = SAME_RADIUS_ATOL + SAME_RADIUS_RTOL * np.maximum(np.abs(a.radius), np.abs(b.radius))
    return bool(np.all(np.abs(a.radius - b.radius) <= tol))


def _row(g: pd.DataFrame, model: str, noise: str, cert: str, label: str) -> Row:
    g = g.sort_values("image")
    return Row(
        model=model,
        noise=noise,
        certifiers=(cert,),
        family=str(g["family"].iloc[0]),
        label=label,
        images=g["image"].to_numpy(np.int64),
        radius=g["radius"].to_numpy(np.float64),
        correct=g["correct"].to_numpy(bool),
        abstained=g["abstained"].to_numpy(bool),
        p_lower=g["p_lower"].to_numpy(np.float64),
        seconds=float(g["seconds"].mean()),
        confidence_spent=float(g["confidence_spent"].max()),
        kind=str(g["kind"].iloc[0]) if "kind" in g else "smoothing",
    )


def build_rows(
    g: pd.DataFrame,
    *,
    specs: Mapping[str, Mapping[str, Any]] | None = None,
    sigma0: Mapping[str, float] | None = None,
    reference: str = "",
    merge: bool = True,
    unsound: Collection[tuple[str, str, str]] = (),
) -> list[Row]:
    """The rows of one board's tidy outcomes, identical certifiers merged (the reference
    certifier named first in its group). Rows of another kind (``imported`` results made
    elsewhere, ``deterministic`` certifiers) are kept apart from sampled ones, and so is
    every ``(model, noise, certifier)`` in ``unsound`` (one that failed, or could not be
    checked by, the soundness check): merged, it would take a sound certifier's row out
    of the headlines with it."""
    specs = specs or {}
    sigma0 = sigma0 or {}
    rows: list[Row] = []
    if "kind" not in g:
        g = g.assign(kind="smoothing")
    labels = {
        model: noise_labels(
            {n: specs[n] for n in set(mg["noise"]) if n in specs}, sigma0.get(model)
        )
        for model, mg in g[g["kind"] != "deterministic"].groupby("model")
    }
    for (model, noise, kind), mg in g.groupby(["model", "noise", "kind"], sort=True):
        if kind == "deterministic":
            label = "no smoothing"
        else:
            label = labels[model].get(noise, noise)
        certs = sorted(mg["certifier"].unique(), key=lambda c: (c != reference, c))
        groups: list[Row] = []
        for cert in certs:
            row = _row(mg[mg["certifier"] == cert], model, noise, cert, label)
            match = next(
                (
                    grp
                    for grp in groups
                    if merge
                    and not any((model, noise, c) in unsound for c in [cert, *grp.certifiers])
                    and _same(grp, row)
                ),
                None,
            )
            if match is None:
                groups.append(row)
            else:
                match.certifiers = (*match.certifiers, cert)
                match.radius = np.minimum(match.radius, row.radius)
                match.confidence_spent = max(match.confidence_spent, row.confidence_spent)
        rows.extend(groups)
    return rows
