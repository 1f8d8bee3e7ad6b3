"""The column registry: one record per leaderboard column, iterated by every writer
(Markdown, HTML, LaTeX, CSV, JSON) and by the significance tests, so that a new column is
one entry here and the formats cannot drift apart.

A plugin file adds one with ``register_column`` (loaded with ``--plugin``).

A record states the column's key, its title, how a row's value is computed, the
per-image score and the paired test that compares two rows on it (McNemar for a
per-image yes/no, the paired t-test of the mean difference for a real score), its
display format, its JSON key and unit, and whether the main table shows it. A record with
``per_radius`` expands into one column per radius of the board's grid.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import numpy as np

from reports import stats
from reports.rows import Row
from smoothbench.plugins import record_registration

#: The confidence of the false-certificate bound.
FALSE_CERT_CONFIDENCE = 0.95
#: Intervals of certified accuracy: Wilson, 1 - INTERVAL_ALPHA.
INTERVAL_ALPHA = 0.05

MCNEMAR = "mcnemar"  # paired binary outcomes
PAIRED_T = "paired-t"  # paired real scores: the paired t-test of the mean difference


@dataclass(frozen=True)
class Context:
    """What a column's value may depend on besides the row: the board's alpha."""

    alpha: float


@dataclass(frozen=True)
class Column:
    key: str
    title: str
    value: Callable[[Row, Context], float]
    fmt: Callable[[float], str]
    json_key: str
    unit: str
    score: Callable[[Row], np.ndarray] | None = None
    test: str | None = None
    main: bool = True
    per_radius: bool = False
    radius: float | None = None
    description: str = ""

    def at(self, r: float) -> Column:
        """The column of a per-radius record at radius ``r``."""
        if r == 0:
            key, title = "clean", "clean"
        else:
            key, title = f"cert@{r:g}", f"r={r:g}"
        return replace(
            self,
            key=key,
            title=title,
            radius=float(r),
            value=lambda row, ctx: float(row.certified(r).mean()) if row.n else float("nan"),
            score=lambda row: row.certified(r),
        )

    def interval(self, row: Row) -> tuple[float, float] | None:
        """Wilson interval of a certified-accuracy column (None for other columns)."""
        if self.radius is None or row.n == 0:
            return None
        k = int(row.certified(self.radius).sum())
        lo, hi = stats.wilson_interval(k, row.n, INTERVAL_ALPHA)
        return float(lo), float(hi)


def _pct(v: float) -> str:
    return "n/a" if not np.isfinite(v) else f"{100 * v:.1f}"


def _false_cert_bound(row: Row, ctx: Context) -> float:
    n_cert = int((~row.abstained).sum())
    if row.kind == "deterministic" or n_cert == 0:  # a proof about the network: never false
        return 0.0
    if not 0.0 <= row.confidence_spent < 1.0:  # no probability: the soundness check fails it
        return float("nan")
    # the guarantee is per image (at most alpha each), not per certificate issued
    return float(
        stats.false_certificate_bound(
            row.n, ctx.alpha, FALSE_CERT_CONFIDENCE, shared=row.confidence_spent, issued=n_cert
        )
    )


COLUMNS: list[Column] = [
    Column(
        key="cert",
        title="certified accuracy",
        value=lambda row, ctx: float("nan"),
        fmt=_pct,
        json_key="certified_acc",
        unit="percent",
        test=MCNEMAR,
        per_radius=True,
        description="certified accuracy at radius r: not abstained, correct, radius >= r "
        "(r = 0: clean smoothed accuracy)",
    ),
    Column(
        key="acr",
        title="ACR",
        value=lambda row, ctx: float(row.score().mean()) if row.n else float("nan"),
        fmt=lambda v: "n/a" if not np.isfinite(v) else f"{v:.4f}",
        json_key="acr",
        unit="radius",
        score=lambda row: row.score(),
        test=PAIRED_T,
        description="average certified radius, the mean of radius x correct",
    ),
    Column(
        key="n",
        title="n",
        value=lambda row, ctx: float(row.n),
        fmt=lambda v: f"{int(v)}",
        json_key="n_test",
        unit="images",
        description="test images of the row",
    ),
    Column(
        key="abstain",
        title="abstain",
        value=lambda row, ctx: float(row.abstained.mean()) if row.n else float("nan"),
        fmt=lambda v: f"{_pct(v)}%",
        json_key="abstain_rate",
        unit="fraction",
        main=False,
        description="share of images with p_A <= 1/2 (no prediction)",
    ),
    Column(
        key="false_cert",
        title="false certificates <=",
        value=_false_cert_bound,
        fmt=lambda v: "n/a" if not np.isfinite(v) else f"{int(v)}",
        json_key="false_certificates_bound_95",
        unit="certificates",
        main=False,
        description="with probability >= 95%, at most this many of the row's certificates "
        "are false (each image gets a false one with probability <= alpha on its own "
        "draws, whether or not it is certified; a Monte Carlo "
        "certifier's table, shared by every image, spends its confidence once; imported "
        "certificates count at the board's alpha; deterministic ones are proofs: 0)",
    ),
    Column(
        key="reach",
        title="reach",
        value=lambda row, ctx: float("nan") if row.reach is None else row.reach,
        fmt=lambda v: "n/a" if not np.isfinite(v) else f"{v:.4g}",
        json_key="reach",
        unit="radius",
        main=False,
        description="the largest radius the row can certify with its n estimation draws at "
        "alpha, whatever the model: its certifier's radius at p_A = alpha^(1/n), all n draws "
        "on the top class (n/a for rows not sampled here, and where the certifier or the "
        "noise family is not loaded here: a plugin not given with --plugin)",
    ),
    Column(
        key="sec_per_img",
        title="sampling s/img",
        value=lambda row, ctx: row.seconds,
        fmt=lambda v: f"{v:.3g}",
        json_key="sampling_seconds_per_image",
        unit="seconds",
        main=False,
        description="seconds of sampling per image for the model, shared by all the noises "
        "sampled with it in one pass (not a per-noise cost)",
    ),
]


def register_column(column: Column) -> Column:
    """Add ``column`` to the registry, after the columns already there: what a plugin file
    does (``--plugin my_column.py``), so that a new column is one file like a noise or a
    certificate. A key or JSON key another column holds is refused; the same column
    registered again (a notebook cell run twice: same key, title and JSON key) replaces
    it. Returns ``column``."""
    if not isinstance(column, Column):
        raise TypeError(f"register_column takes a reports.columns.Column, got {column!r}")
    place = len(COLUMNS)
    for i, other in enumerate(COLUMNS):
        same = (other.key, other.title, other.json_key) == (
            column.key, column.title, column.json_key,
        )  # fmt: skip
        if same:
            place = i
            break
        if column.key == other.key or column.json_key == other.json_key:
            raise ValueError(
                f"column key {column.key!r} (JSON {column.json_key!r}) is taken by the "
                f"column {other.title!r} (key {other.key!r}, JSON {other.json_key!r})"
            )
    record_registration(getattr(column.value, "__module__", None) or "")
    COLUMNS[place : place + 1] = [column]
    return column


def board_columns(radii: Sequence[float]) -> list[Column]:
    """The concrete columns of a board with radius grid ``radii``, in display order."""
    out: list[Column] = []
    for col in COLUMNS:
        if col.per_radius:
            out.extend(col.at(r) for r in radii)
        else:
            out.append(col)
    return out


def compared_columns(columns: Sequence[Column]) -> list[Column]:
    """The columns rows are compared on (those with a paired test)."""
    return [c for c in columns if c.test is not None]
