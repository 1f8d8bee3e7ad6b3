"""The headline claim of a leaderboard, stated with both its paired and unpaired tests.

The headline compares the best row by ACR with its reference: the reference
certifier's row on the same model and noise, else the model's Gaussian row of the
reference certifier. Where the best row is itself a reference row, the claim a paper
would make is tested instead: the best challenger on another noise (a row compared with
its model's Gaussian reference row) against that Gaussian row. Only where there is no
such challenger does it fall back to the runner-up by ACR.

Certified accuracy is compared at every radius of the grid; the radius quoted is the
one with the largest gap, and because that choice is made after looking, the quoted
McNemar mid-p is Holm-adjusted over the whole grid.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from reports import significance as sig
from reports import stats
from reports.leaderboard import Board, noise_label


def fmt_p(p: float) -> str:
    """A p-value with four significant digits (0.001565, 2.4e-35)."""
    if not np.isfinite(p):
        return "n/a"
    return f"{p:.4g}"


def short_label(key: sig.RowKey) -> str:
    model, noise, cert = key
    return f"{model} | {noise_label(noise)} | {cert}"


@dataclass(frozen=True)
class Headline:
    board: str
    row: sig.RowKey | None
    other: sig.RowKey | None
    relation: str
    radius: float
    value: float
    other_value: float
    n: int
    n10: int
    n01: int
    p_midp: float
    p_exact: float
    p_holm: float
    family_size: int
    p_unpaired: float
    z_unpaired: float
    acr: float
    other_acr: float
    acr_ci: tuple[float, float]
    p_wilcoxon: float
    n_paired_needed: int | None
    n_unpaired_needed: int | None
    significant: bool
    text: str


def _pick_other(board: Board, best: sig.RowKey) -> tuple[sig.RowKey | None, str]:
    refs = board.refs.get(best, {})
    if sig.SAME_NOISE in refs:
        return refs[sig.SAME_NOISE], "its reference-certifier row (same model and noise)"
    if sig.GAUSSIAN in refs:
        return refs[sig.GAUSSIAN], "the model's Gaussian row of the reference certifier"
    rest = [k for k in board.data.keys if k != best]
    if not rest:
        return None, ""
    runner_up = max(rest, key=lambda k: board.data.value(k, "acr", 0.0))
    why = (
        "the best row is itself a reference-certifier row"
        if best[2] == board.reference
        else "it has no reference row on its model"
    )
    return runner_up, f"the runner-up by ACR ({why})"


def compare_rows(
    board: Board, row: sig.RowKey, other: sig.RowKey, relation: str = "", level: float = 0.05
) -> Headline:
    """``row`` against ``other`` over the board's radius grid and on ACR."""
    data = board.data
    n = len(data.images)
    per_r = []
    for r in board.radii:
        x, y = data.certified(row, r), data.certified(other, r)
        mc = stats.mcnemar((x, y), mid_p=True)
        z = stats.two_proportion_ztest(int(x.sum()), n, int(y.sum()), n)
        per_r.append((r, x.mean(), y.mean(), mc, z))
    holm = stats.holm([m.pvalue_midp for *_, m, _ in per_r])
    # largest gap; ties: smaller p, then smaller radius
    i = min(
        range(len(per_r)),
        key=lambda j: (-abs(per_r[j][1] - per_r[j][2]), per_r[j][3].pvalue_midp, per_r[j][0]),
    )
    r, v, ov, mc, z = per_r[i]
    acr = stats.paired_difference_test(data.score(row), data.score(other))
    p10, p01 = mc.n10 / n, mc.n01 / n
    n_paired = n_unpaired = None
    if mc.n10 != mc.n01:
        n_paired = stats.mcnemar_sample_size(p10, p01).n
    if 0 < v < 1 and 0 < ov < 1 and v != ov:
        n_unpaired = stats.unpaired_sample_size(float(v), float(ov)).n
    significant = bool(holm[i] < level)
    m = len(per_r)
    text = (
        f"{board.title}, n_test = {n}: {short_label(row)} (ACR {acr.mean_x:.4f}) against "
        f"{relation + ' ' if relation else ''}{short_label(other)} (ACR {acr.mean_y:.4f}). "
        f"Largest gap in certified accuracy over the {m} radii of the grid: at r = {r:g}, "
        f"{100 * v:.1f}% vs {100 * ov:.1f}% ({100 * (v - ov):+.1f} points; {mc.n10} images "
        f"certified only by the first, {mc.n01} only by the second). "
        f"Paired McNemar: mid-p = {fmt_p(mc.pvalue_midp)}, exact p = {fmt_p(mc.pvalue_exact)};"
        f" Holm-adjusted over the {m} radii: mid-p = {fmt_p(holm[i])}, "
        f"{'significant' if significant else 'not significant'} at {level:g}. "
        f"Unpaired two-proportion z-test (as papers report it; ignores the pairing): "
        f"z = {z.statistic:.3f}, p = {fmt_p(z.pvalue)}. "
        f"ACR difference {acr.diff:+.4f} (95% paired bootstrap interval "
        f"[{acr.ci_low:+.4f}, {acr.ci_high:+.4f}]; Wilcoxon signed-rank p = "
        f"{fmt_p(acr.wilcoxon_pvalue)})."
    )
    if n_paired is not None or n_unpaired is not None:
        parts = []
        if n_paired is not None:
            parts.append(f"{n_paired:,} paired images (McNemar, at the observed discordance)")
        if n_unpaired is not None:
            parts.append(f"{n_unpaired:,} images per arm (unpaired z-test)")
        text += f" A gap of this size needs about {' or '.join(parts)} for 80% power at 0.05."
    return Headline(
        board.title,
        row,
        other,
        relation,
        float(r),
        float(v),
        float(ov),
        n,
        mc.n10,
        mc.n01,
        mc.pvalue_midp,
        mc.pvalue_exact,
        float(holm[i]),
        m,
        z.pvalue,
        z.statistic,
        acr.mean_x,
        acr.mean_y,
        (acr.ci_low, acr.ci_high),
        acr.wilcoxon_pvalue,
        n_paired,
        n_unpaired,
        significant,
        text,
    )


def headline(board: Board, level: float = 0.05) -> Headline:
    """The headline comparison of one leaderboard (see the module docstring)."""
    data = board.data
    if not data.keys or len(data.images) == 0:
        raise ValueError(f"{board.title}: no rows to compare")
    best = sig.best_key(data, "acr", 0.0)
    if best[2] == board.reference:
        challengers = [k for k in data.keys if sig.GAUSSIAN in board.refs.get(k, {})]
        if challengers:
            challenger = max(challengers, key=lambda k: data.value(k, "acr", 0.0))
            relation = (
                "the model's Gaussian row of the reference certifier (the best row overall"
                f" is a reference row, {short_label(best)}; this is the best challenger on"
                " another noise)"
            )
            return compare_rows(
                board, challenger, board.refs[challenger][sig.GAUSSIAN], relation, level
            )
    other, relation = _pick_other(board, best)
    if other is None:
        nan = float("nan")
        return Headline(
            board.title,
            best,
            None,
            "",
            0.0,
            data.value(best, "clean", 0.0),
            nan,
            len(data.images),
            0,
            0,
            nan,
            nan,
            nan,
            0,
            nan,
            nan,
            data.value(best, "acr", 0.0),
            nan,
            (nan, nan),
            nan,
            None,
            None,
            False,
            f"{board.title}: a single row ({short_label(best)}); nothing to compare.",
        )
    return compare_rows(board, best, other, relation, level)
