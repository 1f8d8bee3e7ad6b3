"""The headline claim of a leaderboard, as a short structured block: the claim, the
paired test, the unpaired test papers use, the ACR test and the power statement.

The headline compares the best row by ACR with its reference: the reference certifier's
row on the same model and noise, else the model's Gaussian row of the reference
certifier. Where the best row is itself a reference row, the claim a paper would make is
tested instead: the best challenger on another noise against its Gaussian row. Only
where there is no such challenger does it fall back to the runner-up by ACR. Rows of a
certifier that failed the soundness check never enter a headline, nor do rows that check
could not check in the environment the report runs in (``Board.unchecked``: a noise
family not registered here, say; nothing shows their radii are certificates). Where a
board has smoothing rows the claim is among them (deterministic and imported rows are
compared in the table and its appendix).

Certified accuracy is compared at every radius of the grid that both rows reach; the
radius quoted is the one with the largest gap there, and because that choice is made
after looking, the quoted McNemar mid-p is Holm-adjusted over the whole grid. The ACR
difference is tested with the paired t-test of its mean and shown with the interval
that test inverts, so the interval leaves out 0 exactly where the test is significant.
The headline row is the best by ACR among the candidates, chosen from the same data, so
that interval is simultaneous over the comparisons it was chosen from (Bonferroni) and
its p-value adjusted alike: on simulated boards of 11 and 20 rows alike in truth, the
unadjusted 95% interval left out 0 in 13% and 20% of them.

A row's reach is the largest radius its certifier gives at the largest p_A its n draws
can show (``reports.reach``): beyond it the row certifies nothing, whatever its noise
and certifier, so a gap there is the limit of the draws, not evidence. Where the largest
gap of the whole grid lies beyond the reach of the row behind, a "Reach" line names it
and says why it is not the one quoted, and the verdict rests on the radii both reach.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

import numpy as np

from reports import significance as sig
from reports import stats
from reports.leaderboard import Board
from reports.rows import Row
from smoothbench.p_values import fmt_p, p_stated


@dataclass(frozen=True)
class BeyondReach:
    """The largest gap of the grid, where it lies beyond the reach of the row behind (no
    ``p_A`` its draws can show gives that radius: ``reports.reach``): that row, its reach,
    and the gap ``(r, value, other value, Holm-adjusted mid-p)``."""

    row: Row
    reach: float
    draws: int
    alpha: float
    gap: tuple[float, float, float, float]


@dataclass(frozen=True)
class Headline:
    board: str
    row: Row | None
    other: Row | None
    relation: str
    radius: float = float("nan")
    value: float = float("nan")
    other_value: float = float("nan")
    n: int = 0
    n10: int = 0
    n01: int = 0
    p_midp: float = float("nan")
    p_exact: float = float("nan")
    p_holm: float = float("nan")
    family_size: int = 0
    p_unpaired: float = float("nan")
    acr: float = float("nan")
    other_acr: float = float("nan")
    acr_ci: tuple[float, float] = (float("nan"), float("nan"))
    p_acr: float = float("nan")
    #: the rows the headline row was chosen from by ACR (its pairs, for the runner-up):
    #: the ACR interval and p are Bonferroni-adjusted over them
    chosen_from: int = 1
    n_paired_needed: int | None = None
    n_unpaired_needed: int | None = None
    significant: bool = False
    level: float = 0.05
    excluded: list[str] = field(default_factory=list)
    #: the largest gap of the grid, where it lies beyond the reach of the row behind and
    #: so is not the one quoted (``BeyondReach``)
    short: BeyondReach | None = None
    #: what the claim leaves to the table (deterministic rows, where smoothing rows exist)
    scope: str = ""

    def _reach_line(self) -> tuple[str, str] | None:
        if self.short is None:
            return None
        s = self.short
        which = "first" if s.row is self.row else "second"
        r, v, ov, p = s.gap
        return "Reach", (
            f"the grid's largest gap, at r = {r:g}: {100 * v:.1f}% vs {100 * ov:.1f}% "
            f"({100 * (v - ov):+.1f} points, Holm-adjusted mid-p {fmt_p(p)}), lies beyond the "
            f"reach of the {which} row ({s.row.label} · {s.row.certifier}): with n = "
            f"{s.draws:,} draws at alpha = {s.alpha:g} it can certify nothing past "
            f"{s.reach:.4g}, where all n draws fall on the top class. Its 0% there is the "
            "limit of its draws, not evidence against its noise or certifier, so the gap "
            "quoted above is the largest at the radii both rows reach."
        )

    def _gap_line(self) -> str:
        where = "both rows reach" if self.short is not None else "of the grid"
        if self.value == self.other_value and self.n10 == self.n01 == 0:
            return (
                f"none: the two rows certify the same images at every radius {where} "
                f"(r = {self.radius:g}: {100 * self.value:.1f}% on the {self.n} images both "
                "rows have)"
            )
        return (
            f"r = {self.radius:g}: {100 * self.value:.1f}% vs {100 * self.other_value:.1f}%"
            f" ({100 * (self.value - self.other_value):+.1f} points) on the {self.n} images "
            f"both rows have; {self.n10} certified only by the first, {self.n01} only "
            "by the second"
        )

    def lines(self) -> list[tuple[str, str]]:
        """The block, as (label, text) pairs."""
        if self.row is None:
            return [("Claim", f"{self.board}: no row to compare.")]
        if self.other is None:
            single = [("Claim", f"{self.board}: a single row ({self.row.full_label()}).")]
            return single + [("Scope", self.scope)] * bool(self.scope)
        if self.row.model == self.other.model:
            claim = (
                f"{self.row.label} · {self.row.certifier} against {self.other.label} · "
                f"{self.other.certifier}, on {self.row.model}"
            )
        else:
            claim = f"{self.row.full_label()} against {self.other.full_label()}"
        claim_line = ("Claim", claim + (f" ({self.relation})" if self.relation else ""))
        if self.n and np.isfinite(self.acr - self.other_acr) and self.acr <= self.other_acr:
            behind = "tied with" if self.acr == self.other_acr else "behind"
            claim_line = (
                "Claim",
                f"{claim_line[1]}; the first row is {behind} the second on ACR: no claim that "
                "it is better",
            )
        if self.n == 0:
            out = [claim_line, ("Largest gap", "the two rows share no image: no comparison")]
            if self.excluded:
                out.append(("Left out", "; ".join(self.excluded)))
            return out
        lo, hi = self.acr_ci
        diff = self.acr - self.other_acr
        places = _places(diff, lo, hi)
        chosen = (
            f", simultaneous over the {self.chosen_from} comparisons the row was chosen from "
            f"(Bonferroni: each at {100 * (1 - self.level / self.chosen_from):.4g}%)"
            if self.chosen_from > 1
            else ""
        )
        interval = (
            f"{100 * (1 - self.level):g}% paired t interval [{_signed(lo, places, ROUND_FLOOR)}, "
            f"{_signed(hi, places, ROUND_CEILING)}]{chosen}"
            if np.isfinite(lo) and np.isfinite(hi)
            else "no interval from one image"
            if self.n == 1
            else f"no interval: the {self.n} images all differ by the same amount"
        )
        out = [
            claim_line,
            ("Largest gap", self._gap_line()),
            *filter(None, [self._reach_line()]),
            (
                "Paired test (McNemar)",
                f"mid-p {p_stated(self.p_midp)} (exact {fmt_p(self.p_exact)}); Holm over the "
                f"{self.family_size} radii: {fmt_p(self.p_holm)}, "
                f"{'significant' if self.significant else 'not significant'} at {self.level:g}",
            ),
            (
                "Unpaired test (z-test, as papers report it)",
                f"p {p_stated(self.p_unpaired)} (ignores that both rows see the same images "
                "and draws)",
            ),
            (
                "ACR",
                f"{self.acr:.{places}f} vs {self.other_acr:.{places}f}, difference "
                f"{_signed(diff, places)}, {interval}; paired t-test p "
                f"{p_stated(self.p_acr)}"
                + (" (Bonferroni-adjusted)" if self.chosen_from > 1 else ""),
            ),
        ]
        parts = []
        if self.n_paired_needed is not None:
            parts.append(f"about {self.n_paired_needed:,} paired images (exact McNemar test)")
        if self.n_unpaired_needed is not None:
            parts.append(f"{self.n_unpaired_needed:,} images per arm (z-test)")
        power = (
            f"a gap of this size needs {' or '.join(parts)} for 80% power at "
            f"{self.level:g} (one test at the quoted radius, before Holm's adjustment)"
            if parts
            else "no gap at the quoted radius: no sample size would show one"
        )
        out.append(("Power", power))
        if self.scope:
            out.append(("Scope", self.scope))
        if self.excluded:
            out.append(("Left out", "; ".join(self.excluded)))
        return out

    @property
    def text(self) -> str:
        """The block as one paragraph (console output)."""
        return f"{self.board}: " + " | ".join(f"{k}: {v}" for k, v in self.lines())


def _places(*values: float) -> int:
    """Decimal places that show the ACR differences ``values``: 4, or more for differences
    below 0.01 (two significant digits of the largest)."""
    largest = max((abs(v) for v in values if np.isfinite(v) and v != 0), default=0.0)
    if largest == 0.0 or largest >= 0.01:
        return 4
    return max(4, int(np.ceil(-np.log10(largest))) + 1)


def _signed(value: float, places: int, rounding: str | None = None) -> str:
    """``value`` with a sign and ``places`` decimals; a value that rounds to zero is "0"
    with its places, never "-0.0000". ``rounding`` (``decimal.ROUND_FLOOR`` for an
    interval's lower end, ``decimal.ROUND_CEILING`` for its upper) rounds the float's
    exact decimal expansion outward, so that the printed interval holds the computed
    one; otherwise it is rounded to the nearest."""
    shown: float | Decimal = value
    if rounding is not None and math.isfinite(value):
        shown = Decimal(value).quantize(Decimal(1).scaleb(-places), rounding=rounding)
    text = f"{shown:+.{places}f}"
    return f"{0.0:.{places}f}" if float(text) == 0.0 else text


def _pick_other(board: Board, best: Row, candidates: list[Row]) -> tuple[Row | None, str]:
    refs = {
        kind: r for kind, r in board.refs.get(best.key, {}).items() if r.key not in board.held_out
    }
    if sig.SAME_NOISE in refs:
        return refs[sig.SAME_NOISE], "its reference-certifier row, same model and noise"
    if sig.GAUSSIAN in refs:
        return refs[sig.GAUSSIAN], "the model's Gaussian row of the reference certifier"
    rest = [r for r in candidates if r is not best]
    if not rest:
        return None, ""
    acr = board.column("acr")
    runner_up = max(rest, key=lambda r: acr.value(r, board.context))
    if board.reference in best.certifiers:
        why = "the best row is itself a reference row"
    elif any(r.key in board.unsound for r in board.refs.get(best.key, {}).values()):
        why = "its reference row failed the soundness check"
    elif board.refs.get(best.key):
        why = "its reference row could not be checked for soundness here"
    else:
        why = "it has no reference row on its model"
    return runner_up, f"the runner-up by ACR: {why}"


def compare_rows(
    board: Board,
    row: Row,
    other: Row,
    relation: str = "",
    level: float = 0.05,
    chosen_from: int = 1,
) -> Headline:
    """``row`` against ``other`` over the board's radius grid and on ACR, on the images
    both rows have. ``chosen_from``: the comparisons this one was chosen from by ACR (the
    candidate rows, each against its reference); the ACR interval is then simultaneous
    over them (Bonferroni: each at ``1 - level / chosen_from``) and its p-value
    multiplied by their number, as the choice of the best looked at the same data."""
    images = np.intersect1d(row.images, other.images)
    n = int(images.size)
    if n == 0:
        return Headline(board.title, row, other, relation, level=level)
    a, b = row.on(images), other.on(images)
    per_r = []
    for r in board.radii:
        x, y = a.certified(r), b.certified(r)
        mc = stats.mcnemar((x, y), mid_p=True)
        z = stats.two_proportion_ztest(int(x.sum()), n, int(y.sum()), n)
        per_r.append((r, float(x.mean()), float(y.mean()), mc, z))
    holm = stats.holm([m.pvalue_midp for *_, m, _ in per_r])
    reached = [
        j for j, e in enumerate(per_r) if not (row.beyond_reach(e[0]) or other.beyond_reach(e[0]))
    ]
    i = _largest_gap(per_r, reached or range(len(per_r)))
    r, v, ov, mc, z = per_r[i]
    short = _beyond_reach(board, (row, other), per_r, holm, i)
    acr = stats.paired_difference_test(a.score(), b.score(), confidence=1.0 - level / chosen_from)
    n_paired = n_unpaired = None
    if mc.n10 != mc.n01:
        n_paired = stats.mcnemar_sample_size(mc.n10 / n, mc.n01 / n, alpha=level).n
    if 0 < v < 1 and 0 < ov < 1 and v != ov:
        n_unpaired = stats.unpaired_sample_size(v, ov, alpha=level).n
    return Headline(
        board.title, row, other, relation, float(r), v, ov, n, mc.n10, mc.n01,
        mc.pvalue_midp, mc.pvalue_exact, float(holm[i]), len(per_r), z.pvalue,
        acr.mean_x, acr.mean_y, (acr.ci_low, acr.ci_high),
        min(1.0, acr.ttest_pvalue * chosen_from), chosen_from,
        n_paired, n_unpaired, bool(holm[i] < level), level, short=short,
    )  # fmt: skip


def _beyond_reach(
    board: Board, rows: tuple[Row, Row], per_r: list[tuple], holm: np.ndarray, quoted: int
) -> BeyondReach | None:
    """The grid's largest gap where it is larger than the quoted one (``per_r[quoted]``,
    the largest at the radii both rows reach) and lies beyond the reach of the row behind;
    else ``None``."""
    j = _largest_gap(per_r, range(len(per_r)))
    r, v, ov = per_r[j][:3]
    if _gap(per_r[j]) <= _gap(per_r[quoted]):
        return None
    behind = rows[1] if v > ov else rows[0]
    if not behind.beyond_reach(r):
        return None
    return BeyondReach(behind, behind.reach, board.draws, board.alpha, (r, v, ov, float(holm[j])))


def _gap(entry: tuple) -> float:
    """``|value - other value|`` of a ``per_r`` entry, to 12 decimals: accuracies are
    fractions of the same images, and equal gaps (0.5 - 0.4, 0.1 - 0) differ in float by
    an ulp, which would decide ties that the mid-p and the radius are meant to."""
    return round(abs(entry[1] - entry[2]), 12)


def _largest_gap(per_r: list[tuple], indices: Iterable[int]) -> int:
    """The index among ``indices`` of ``per_r`` (``(r, value, other value, McNemar, ...)``
    per radius) with the largest gap; ties to the smaller mid-p, then to more discordant
    images (equal accuracies on other images: a gap of 0 that the images behind it show),
    then the smaller r."""

    def rank(j: int) -> tuple[float, float, int, float]:
        r, _, _, mc = per_r[j][:4]
        return -_gap(per_r[j]), mc.pvalue_midp, -(mc.n10 + mc.n01), r

    return min(indices, key=rank)


def headline(board: Board, level: float = 0.05) -> Headline:
    """The headline comparison of one leaderboard (see the module docstring)."""
    smoothing = [r for r in board.rows if r.kind == "smoothing"]
    pool = smoothing or board.rows  # the claim is about smoothing where the board has some
    candidates = [r for r in pool if r.key not in board.held_out]
    excluded = [
        f"{r.full_label()} (failed the soundness check)"
        if r.key in board.unsound
        else f"{r.full_label()} (not checked for soundness here: {board.unchecked[r.key]})"
        for r in board.rows
        if r.key in board.held_out
    ]
    if not candidates:
        return Headline(board.title, None, None, "", excluded=excluded, level=level)
    deterministic = sorted({r.certifier for r in board.rows if r.kind == "deterministic"})
    left = [
        f"the rows of {', '.join(deterministic)} (which bound the base network itself, not a "
        "smoothed classifier)"
    ] * bool(deterministic)
    left += ["the imported rows (certified by other code)"] * any(
        r.kind == "imported" for r in board.rows
    )
    scope = (
        f"the claim is among the smoothing rows; {' and '.join(left)} are compared in the table"
        if smoothing and left
        else ""
    )
    acr = board.column("acr")
    best = max(candidates, key=lambda r: acr.value(r, board.context))
    if board.reference in best.certifiers:
        challengers = [
            r
            for r in candidates
            if sig.GAUSSIAN in board.refs.get(r.key, {})
            and board.refs[r.key][sig.GAUSSIAN].key not in board.held_out
        ]
        if challengers:
            challenger = max(challengers, key=lambda r: acr.value(r, board.context))
            relation = (
                "the best challenger on another noise against its Gaussian reference row; "
                f"the best {'smoothing ' if smoothing else ''}row is a reference row, "
                f"{best.full_label()}"
            )
            h = compare_rows(
                board,
                challenger,
                board.refs[challenger.key][sig.GAUSSIAN],
                relation,
                level,
                len(challengers),
            )
            return _with_excluded(h, excluded, scope)
    other, relation = _pick_other(board, best, candidates)
    if other is None:
        return Headline(board.title, best, None, "", excluded=excluded, level=level, scope=scope)
    m = len(candidates)
    # best against its reference: one of m such comparisons; against the runner-up: the
    # pair of the two largest, one of every pair
    chosen_from = (
        m
        if other.key in {r.key for r in board.refs.get(best.key, {}).values()}
        else (m * (m - 1) // 2)
    )
    h = compare_rows(board, best, other, relation, level, max(1, chosen_from))
    return _with_excluded(h, excluded, scope)


def _with_excluded(h: Headline, excluded: list[str], scope: str = "") -> Headline:
    return replace(h, excluded=excluded, scope=scope)
