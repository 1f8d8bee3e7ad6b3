"""The best-over-sigma envelope, as in Cohen et al. (2019), Table 1: for each noise (the
same family and shape, matched to each model's training sigma) and certifier, the best
certified accuracy at each radius over the models of the run, with the sigma0 that
achieves it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from reports.leaderboard import Board
from reports.rows import Row


@dataclass(frozen=True)
class EnvelopeRow:
    """One noise and certifier: per radius, the best value and the model achieving it."""

    label: str
    certifier: str
    values: list[float]
    models: list[str]
    sigma0: list[float | None]
    rows: list[Row]
    #: Rows of the noise and certifier left out for holding other images than the rows
    #: kept (a run stopped part-way): ``(model, images it holds, images of the rows kept,
    #: "fewer" | "more" | "other")``: its images among theirs, theirs among its, or neither.
    left_out: tuple[tuple[str, int, int, str], ...] = ()

    @property
    def reach(self) -> float | None:
        """The farthest reach of its rows (``reports.reach``): beyond it none can certify
        any image; None where a row's reach is not known."""
        reaches = [r.reach for r in self.rows]
        return None if any(r is None for r in reaches) else max(reaches)

    def beyond_reach(self, radius: float | None) -> bool:
        """Whether ``radius`` lies beyond every row's reach."""
        return radius is not None and self.reach is not None and radius > self.reach


def envelope(board: Board) -> list[EnvelopeRow]:
    """Envelope rows of a board (noises present on at least two models), the largest
    area under the envelope over the board's radii first (a step sum, the grid's proxy
    of ACR); rows of certifiers that failed the soundness check, and rows it could not
    check here, are left out (the envelope shows no marks). So are rows of other images
    than the rows kept (a model sampled on part of them, whose accuracy on those few
    would be set against the others' on all; ``reference_images`` says which are kept),
    so that every value of an envelope row is on the same images: the row may then rest
    on one model, and ``left_out`` names the others."""
    groups: dict[tuple[str, str], list[Row]] = {}
    for row in board.rows:
        if row.key in board.held_out or row.kind != "smoothing":
            continue
        groups.setdefault((row.label, row.certifier_short), []).append(row)
    out = []
    ctx = board.context
    for (label, cert), rows in groups.items():
        if len({r.model for r in rows}) < 2:
            continue
        kept = reference_images(rows)
        short = tuple(
            (r.model, r.images.size, kept.size, _relation(r.images, kept))
            for r in rows
            if not np.array_equal(r.images, kept)
        )
        rows = [r for r in rows if np.array_equal(r.images, kept)]
        values, models, sigmas = [], [], []
        for col in board.columns:
            if col.radius is None:
                continue
            best = max(rows, key=lambda r: col.value(r, ctx))
            values.append(col.value(best, ctx))
            models.append(best.model)
            sigmas.append(board.sigma0.get(best.model))
        out.append(EnvelopeRow(label, cert, values, models, sigmas, rows, short))
    radii = [c.radius for c in board.columns if c.radius is not None]
    weights = np.diff(np.r_[radii, radii[-1]]) if radii else np.zeros(0)
    out.sort(key=lambda e: -float(np.dot(e.values, weights)) if len(weights) else 0.0)
    return out


def reference_images(rows: list[Row]) -> np.ndarray:
    """The images of the envelope's rows: the image set the most rows hold, then the
    largest, then the one of the first model by name (rows of one run hold one set
    unless a run stopped part-way; Ray runs stop with models' sets that need not nest)."""
    sets: dict[bytes, list[Row]] = {}
    for r in rows:
        sets.setdefault(np.asarray(r.images, dtype=np.int64).tobytes(), []).append(r)
    best = min(sets.values(), key=lambda s: (-len(s), -s[0].images.size, min(r.model for r in s)))
    return best[0].images


def _relation(images: np.ndarray, kept: np.ndarray) -> str:
    """``fewer`` where ``images`` lie among ``kept``, ``more`` where they hold them all,
    else ``other``."""
    if np.isin(images, kept).all():
        return "fewer"
    return "more" if np.isin(kept, images).all() else "other"


_HELD = {
    "fewer": "{held} of the {kept} images",
    "more": "{held} images, beyond the {kept}",
    "other": "{held} images, other than the {kept}",
}


def left_out_note(rows: list[EnvelopeRow]) -> str:
    """`` Left out ...`` naming the rows ``envelope`` left out of ``rows`` for their
    images, or ``""``."""
    named = [
        f"{model} under {e.label} · {e.certifier} ({_HELD[how].format(held=held, kept=kept)}"
        " of the rows kept)"
        for e in rows
        for model, held, kept, how in e.left_out
    ]
    if not named:
        return ""
    return (
        " Left out, for holding other images than the rows kept (a run stopped part-way; "
        f"paired tests still compare them on the images they share): {'; '.join(named)}."
    )


def envelope_curve(rows: list[Row], grid: np.ndarray) -> np.ndarray:
    """Pointwise best certified accuracy over ``rows`` on a radius grid."""
    best = np.zeros(grid.size)
    for row in rows:
        acc = row.certified_on(grid).mean(axis=1)
        best = np.maximum(best, acc)
    return best
