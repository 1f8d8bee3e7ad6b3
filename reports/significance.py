"""Which leaderboard rows are compared with which, the paired tests, and the marks.

Within one leaderboard (one dataset, norm and alpha) a *row* is a (model, noise,
certifiers) triple (``reports.rows``). For each compared column (certified accuracy at
each radius, r = 0 being clean smoothed accuracy, and ACR; ``reports.columns``):

- **vs reference.** Each row is compared, on the same model, with

  1. ``same-noise``: the reference certifier's row on the *same* noise, which isolates
     the certifier; and, where the row's noise is not Gaussian,
  2. ``gaussian``: the model's Gaussian-noise row of the reference certifier (the
     baseline a new noise claims to beat: noise and certifier change together).

  Where several Gaussian noises exist on a model, the one with the row's second moment
  E||z||^2 is used, else the one with the model's training sigma.
- **vs best.** The row with the highest value in the column is compared with every other
  row. That row is chosen by the same data its tests see, so the Holm family of a column
  is every pair of its rows, not only the best's: on simulated boards of 20 rows alike
  in truth, Holm over the best's own comparisons called some row below the best in 26%
  of them, over every pair in 4.3% (300 boards each). Rows of a certifier that failed
  the soundness check take no part: their values are not certificates, so they are
  neither the best nor a row the best must beat. Nor do rows that check could not check
  here (``Board.unchecked``).

Two rows are compared on the images both have (the number is in each comparison).
Accuracy columns use McNemar's test on the paired per-image outcomes (certified at r or
not), exact and mid-p, with the unpaired two-proportion z-test beside it; ACR uses the
paired t-test of the mean difference of ``radius x correct``. Multiplicity:
vs-reference comparisons of one kind in one leaderboard form one family for the
accuracy grid and one for ACR, each Benjamini-Hochberg adjusted; the vs-best comparisons
of one column are Holm adjusted over every pair of the column's rows (only the best's
are kept in the table). Both adjusted values are kept in the comparison table. The
vs-reference comparisons of a held-out row (failed or not checked by the soundness
check), and those against a held-out reference row, are kept apart in families of their
own and give no marks: their small p-values would lower the adjusted values of the
sound rows' (BH steps up), and a comparison with values not known to be certificates
says nothing of a certifier.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from reports import stats
from reports.columns import MCNEMAR, Column, Context
from reports.rows import Row, RowKey

SAME_NOISE = "same-noise"
GAUSSIAN = "gaussian"
BEST = "best"
_PAIR = "pair"  # two rows of which neither is the best: in the best's Holm family only
#: Prefix of the family of a vs-reference comparison of, or against, a held-out row.
HELD_OUT = "held out: "

#: Marks in leaderboard cells.
MARK_UP, MARK_DOWN = "▲", "▼"  # vs the same-noise reference row (BH-adjusted mid-p)
MARK_UP_G, MARK_DOWN_G = "△", "▽"  # vs the model's Gaussian reference row (BH)
MARK_BEST = "★"  # best in column, significantly above every other row (Holm, all pairs)
MARK_BEST_TIED = "☆"  # best in column (or tied with it), not separable from (or untested
# against) some row
MARK_TIED = "≈"  # not significantly below the best row of the column (Holm, all pairs)
MARK_REF_BEYOND = "§"  # after ▲/△/▼/▽: the reference row is beyond its reach there

#: The columns of :func:`comparisons`, also of an empty one.
COMPARISON_COLUMNS = [
    "kind", "column", "radius", "row", "other", "value", "other_value", "diff", "n",
    "n10", "n01", "test", "p", "p_exact", "p_holm", "p_bh", "z_unpaired", "p_unpaired",
    "family", "row_beyond_reach", "other_beyond_reach",
]  # fmt: skip

LEGEND = (
    f"{MARK_UP}/{MARK_DOWN}: significantly above/below the reference certifier's row on "
    f"the same model and noise; {MARK_UP_G}/{MARK_DOWN_G}: above/below the model's "
    "Gaussian-noise row of the reference certifier (shown for non-Gaussian noises). "
    "Both: McNemar mid-p (paired: same images and draws), Benjamini-Hochberg adjusted "
    f"over the leaderboard's grid of that comparison, q < LEVEL. {MARK_BEST}: best in the "
    "column and significantly above every other row (McNemar mid-p, Holm-adjusted over "
    "every pair of rows of the column, as the best is chosen from the same data, p < "
    f"LEVEL); {MARK_BEST_TIED}: best (or equal to the best) but not "
    f"separable from the rows marked {MARK_TIED}, or sharing no image with some row (no "
    "test compares them). A row can be marked both below a reference row (BH) and "
    f"{MARK_TIED} where that reference row is the best: the same test, adjusted over two "
    "families (BH over the reference comparisons, Holm over every pair of the column), "
    "can pass the first and not the second. ACR: the paired t-test of the mean "
    "difference instead of McNemar. "
    f"{MARK_REF_BEYOND} after a mark: the reference row lies beyond its reach at that "
    "radius (its draws cannot certify any image there), so the gap shows where its draws "
    "end, not a stronger noise or certifier."
)


def _second_moment(spec: Mapping[str, Any] | None) -> float | None:
    if spec is None:
        return None
    try:
        from harness.noise import from_spec

        return float(from_spec(dict(spec)).second_moment())
    except (ValueError, TypeError):
        return None


def reference_map(
    rows: Sequence[Row],
    reference: str,
    *,
    specs: Mapping[str, Mapping[str, Any]] | None = None,
    sigma0: Mapping[str, float] | None = None,
    gaussian_family: str = "gaussian",
) -> tuple[dict[RowKey, dict[str, Row]], list[str]]:
    """For every row, its reference rows by kind (``same-noise``, ``gaussian``)."""
    specs = specs or {}
    sigma0 = sigma0 or {}
    refs_of = [r for r in rows if reference in r.certifiers and r.kind == "smoothing"]
    out: dict[RowKey, dict[str, Row]] = {}
    notes: list[str] = []
    for row in rows:
        refs: dict[str, Row] = {}
        same = [r for r in refs_of if r.model == row.model and r.noise == row.noise]
        if same and same[0] is not row:
            refs[SAME_NOISE] = same[0]
        if row.family != gaussian_family:
            cands = [r for r in refs_of if r.model == row.model and r.family == gaussian_family]
            choice = cands[0] if len(cands) == 1 else None
            if len(cands) > 1:
                target = _second_moment(specs.get(row.noise))
                by_moment = [
                    r
                    for r in cands
                    if target is not None
                    and (m := _second_moment(specs.get(r.noise))) is not None
                    and np.isclose(m, target, rtol=1e-6)
                ]
                by_sigma = [
                    r
                    for r in cands
                    if row.model in sigma0
                    and np.isclose(
                        (specs.get(r.noise) or {}).get("params", {}).get("sigma", np.nan),
                        sigma0[row.model],
                    )
                ]
                pick = by_moment or by_sigma
                if len(pick) == 1:
                    choice = pick[0]
                else:
                    notes.append(
                        f"{row.full_label()}: {len(cands)} Gaussian {reference} rows on "
                        f"{row.model} and none matches; no Gaussian-reference comparison"
                    )
            if choice is not None:
                refs[GAUSSIAN] = choice
        out[row.key] = refs
    return out, notes


def best_row(rows: Sequence[Row], column: Column, ctx: Context, acr: Column) -> Row:
    """The row with the highest value; ties broken by ACR, then by row order."""
    return max(rows, key=lambda r: (column.value(r, ctx), acr.value(r, ctx)))


def compare(row: Row, other: Row, column: Column, ctx: Context) -> dict[str, Any]:
    """``row`` against ``other`` on ``column``, on the images both have. McNemar cells
    carry their counts; their p-values are filled in by :func:`comparisons` (vectorized)."""
    if row.images is other.images or np.array_equal(row.images, other.images):
        images, a, b = row.images, row, other  # the common case: no intersection to make
    else:
        images = np.intersect1d(row.images, other.images)
        a, b = row.on(images), other.on(images)
    n = int(images.size)
    rec: dict[str, Any] = {
        "column": column.key,
        "radius": column.radius if column.radius is not None else np.nan,
        "value": column.value(a, ctx),
        "other_value": column.value(b, ctx),
        "n": n,
        "n10": np.nan,
        "n01": np.nan,
        "k1": np.nan,
        "k2": np.nan,
        "p": np.nan,
        "p_exact": np.nan,
        "row_beyond_reach": row.beyond_reach(column.radius),
        "other_beyond_reach": other.beyond_reach(column.radius),
    }
    if n == 0:
        rec["test"] = "none (no shared images)"
        return rec
    x, y = column.score(a), column.score(b)
    if column.test == MCNEMAR:
        rec.update(
            test="McNemar mid-p (paired)",
            n10=int(np.sum(x & ~y)),
            n01=int(np.sum(~x & y)),
            k1=int(x.sum()),
            k2=int(y.sum()),
        )
    else:
        rec.update(test="paired t-test of the mean difference", p=stats.paired_ttest_pvalue(x, y))
    return rec


def comparisons(
    rows: Sequence[Row],
    columns: Sequence[Column],
    refs: Mapping[RowKey, Mapping[str, Row]],
    ctx: Context,
    acr: Column,
    unsound: Collection[RowKey] = (),
) -> pd.DataFrame:
    """The long table of every comparison in one leaderboard, with adjusted p-values;
    the rows in ``unsound`` are left out of the vs-best comparisons, and their
    vs-reference comparisons, and those of a row against one of them as its reference,
    form families of their own (``HELD_OUT``), which give no marks.

    Columns: kind, column, radius, row, other (row keys), value, other_value, diff, n,
    n10 (images only ``row`` certifies), n01 (only ``other``), test, p (mid-p, or the
    t-test for ACR), p_exact, p_unpaired, z_unpaired, p_holm, p_bh, family,
    row_beyond_reach and other_beyond_reach (the column's radius lies beyond that row's
    reach, ``reports.reach``: its draws cannot certify any image there, so a gap at that
    radius shows the end of its draws, not a weaker noise or certifier).
    """
    records = []
    if not rows:
        return pd.DataFrame(columns=COMPARISON_COLUMNS)
    for column in columns:
        for row in rows:
            for kind, other in refs.get(row.key, {}).items():
                rec = compare(row, other, column, ctx)
                rec.update(kind=kind, row=row.key, other=other.key)
                records.append(rec)
        ranked = [r for r in rows if r.key not in unsound]
        if not ranked:
            continue
        best = best_row(ranked, column, ctx, acr)
        for i, row in enumerate(ranked):
            if row is best:
                continue
            rec = compare(best, row, column, ctx)
            rec.update(kind=BEST, row=best.key, other=row.key)
            records.append(rec)
            # the best is chosen from the same data, so any pair could have been one of
            # its comparisons: the pairs without it enter its Holm family, then are dropped
            for other in ranked[i + 1 :]:
                if other is not best:
                    rec = compare(row, other, column, ctx)
                    rec.update(kind=_PAIR, row=row.key, other=other.key)
                    records.append(rec)
    if not records:
        return pd.DataFrame(columns=COMPARISON_COLUMNS)
    df = pd.DataFrame.from_records(records)
    mc = df["test"].str.startswith("McNemar")
    exact, midp = stats.mcnemar_pvalues(df.loc[mc, "n10"], df.loc[mc, "n01"])
    df.loc[mc, "p_exact"], df.loc[mc, "p"] = exact, midp
    df["z_unpaired"], df["p_unpaired"] = np.nan, np.nan
    z, pz = stats.ztest_pvalues(df.loc[mc, "k1"], df.loc[mc, "k2"], df.loc[mc, "n"])
    df.loc[mc, "z_unpaired"], df.loc[mc, "p_unpaired"] = z, pz
    df["diff"] = df["value"] - df["other_value"]
    is_acr = df["column"] == "acr"
    df["family"] = np.where(
        df["kind"].isin([BEST, _PAIR]),
        "best:" + df["column"],
        df["kind"] + np.where(is_acr, ":acr", ":accuracy grid"),
    )
    # a held-out row's small p-values would lower a sound row's BH-adjusted ones
    held = df["row"].map(lambda k: k in unsound) | df["other"].map(lambda k: k in unsound)
    df.loc[held, "family"] = HELD_OUT + df.loc[held, "family"]
    df["p_holm"] = np.nan
    df["p_bh"] = np.nan
    for _, idx in df.groupby("family").groups.items():
        p = df.loc[idx, "p"].to_numpy(np.float64)
        ok = np.isfinite(p)
        holm, bh = np.full(p.shape, np.nan), np.full(p.shape, np.nan)
        if ok.any():
            holm[ok], bh[ok] = stats.holm(p[ok]), stats.benjamini_hochberg(p[ok])
        df.loc[idx, "p_holm"] = holm
        df.loc[idx, "p_bh"] = bh
    df = df[df["kind"] != _PAIR]
    return df[COMPARISON_COLUMNS].reset_index(drop=True)


def marks(comps: pd.DataFrame, level: float = 0.05) -> dict[tuple[RowKey, str], str]:
    """Marks per (row key, column key), from :func:`comparisons`."""
    out: dict[tuple[RowKey, str], str] = {}

    def add(key: RowKey, column: str, mark: str) -> None:
        out[(key, column)] = out.get((key, column), "") + mark

    if comps.empty:
        return out
    for rec in comps.itertuples(index=False):
        if rec.family.startswith(HELD_OUT):  # of, or against, values not known to be radii
            continue
        if rec.kind in (SAME_NOISE, GAUSSIAN) and rec.p_bh < level and rec.diff != 0:
            up = rec.diff > 0
            if rec.kind == SAME_NOISE:
                add(rec.row, rec.column, MARK_UP if up else MARK_DOWN)
            else:
                add(rec.row, rec.column, MARK_UP_G if up else MARK_DOWN_G)
            if rec.other_beyond_reach and not rec.row_beyond_reach:
                add(rec.row, rec.column, MARK_REF_BEYOND)
    best = comps[comps["kind"] == BEST]
    for column, g in best.groupby("column", sort=False):
        if (g["value"] == g["other_value"]).all():
            continue  # every row has the same value: no best to mark
        winner = g["row"].iloc[0]
        # n = 0 (no shared image) tested nothing: it withholds the filled star, and the
        # other row is not called tied either
        tested = g["n"] > 0
        if not tested.any():
            continue  # the best shares no image with any row: nothing to mark
        separated = tested & (g["p_holm"] < level) & (g["diff"] > 0)
        if bool(separated.all()):
            add(winner, column, MARK_BEST)
        else:
            add(winner, column, MARK_BEST_TIED)
            for rec in g[tested & ~separated].itertuples(index=False):
                # a row with the best value itself is as much the best as the one ranked first
                add(
                    rec.other, column, MARK_BEST_TIED if rec.other_value == rec.value else MARK_TIED
                )
    return out
