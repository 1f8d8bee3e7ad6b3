"""Which leaderboard rows are compared with which, the paired tests, and the marks.

Within one leaderboard (one dataset, norm and alpha) a *row* is a (model, noise,
certifier) triple and every row certifies the same test images. For each metric column
(certified accuracy at radius r, r = 0 being clean smoothed accuracy, and ACR):

- **vs reference.** Each row is compared, on the same model, with

  1. ``same-noise``: the row of the reference certifier (Cohen by default) on the *same*
     noise, which isolates the certifier; and, where the row's noise is not Gaussian,
  2. ``gaussian``: the model's Gaussian-noise row of the reference certifier (the
     baseline a new noise claims to beat: noise and certifier change together).

  Where several Gaussian noises exist on a model, the one with the row's second moment
  E||z||^2 is used, else the one with the model's training sigma.
- **vs best.** The row with the highest value in the column is compared with every other
  row.

Accuracy columns use McNemar's test on the paired per-image outcomes (certified at r or
not), reported exact and mid-p, with the unpaired two-proportion z-test beside it; the
ACR column uses the paired Wilcoxon signed-rank test on ``radius x correct`` with a
paired bootstrap interval of the difference. Multiplicity: vs-reference comparisons of
one kind in one leaderboard form one family (its per-radius grid) and are
Benjamini-Hochberg adjusted; the vs-best comparisons of one column form one family and
are Holm adjusted. Both adjusted values are kept in the comparison table.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from reports import stats

RowKey = tuple[str, str, str]  # (model, noise, certifier)

SAME_NOISE = "same-noise"
GAUSSIAN = "gaussian"
BEST = "best"

#: Marks in leaderboard cells.
MARK_UP, MARK_DOWN = "▲", "▼"  # vs the same-noise reference row (BH-adjusted mid-p)
MARK_UP_G, MARK_DOWN_G = "△", "▽"  # vs the model's Gaussian reference row (BH)
MARK_BEST = "★"  # best in column, significantly above every other row (Holm)
MARK_BEST_TIED = "☆"  # best in column, not separable from some row (Holm)
MARK_TIED = "≈"  # not significantly below the best row of the column (Holm)

LEGEND = (
    f"{MARK_UP}/{MARK_DOWN}: significantly above/below the reference certifier's row on "
    f"the same model and noise; {MARK_UP_G}/{MARK_DOWN_G}: above/below the model's "
    "Gaussian-noise row of the reference certifier (shown for non-Gaussian noises). "
    "Both: McNemar mid-p (paired, same images and draws), Benjamini-Hochberg adjusted "
    f"over the leaderboard's grid of that comparison, q < LEVEL. {MARK_BEST}: best in the "
    "column and significantly above every other row (McNemar mid-p, Holm-adjusted over "
    f"the column, p < LEVEL); {MARK_BEST_TIED}: best but not separable from the rows "
    f"marked {MARK_TIED}. ACR: paired Wilcoxon signed-rank test instead of McNemar."
)


def row_label(key: RowKey) -> str:
    return " | ".join(key)


def metric_name(r: float) -> str:
    """Column name of certified accuracy at radius ``r`` (``clean`` for r = 0)."""
    return "clean" if r == 0 else f"cert@{r:g}"


@dataclass
class BoardData:
    """Paired per-image arrays of one leaderboard: ``radius[k]`` and ``correct[k]`` for
    row ``k`` over the common image list."""

    keys: list[RowKey]
    images: np.ndarray
    radius: dict[RowKey, np.ndarray]
    correct: dict[RowKey, np.ndarray]
    family: dict[RowKey, str]
    notes: list[str] = field(default_factory=list)

    def certified(self, key: RowKey, r: float) -> np.ndarray:
        return self.correct[key] & (self.radius[key] >= r)

    def score(self, key: RowKey) -> np.ndarray:
        return np.where(self.correct[key], self.radius[key], 0.0)

    def value(self, key: RowKey, metric: str, r: float) -> float:
        if metric == "acr":
            return float(self.score(key).mean())
        return float(self.certified(key, r).mean())


def board_data(g: pd.DataFrame) -> BoardData:
    """Per-row arrays over the images every row of the board has (paired tests need the
    same images; rows with fewer images are noted)."""
    keys = sorted({(m, nz, c) for m, nz, c in g[["model", "noise", "certifier"]].itertuples(False)})
    per_row = {k: sub for k, sub in g.groupby(["model", "noise", "certifier"], sort=True)}
    image_sets = [set(per_row[k]["image"]) for k in keys]
    common = sorted(set.intersection(*image_sets)) if image_sets else []
    notes = []
    for k, s in zip(keys, image_sets, strict=True):
        if len(s) != len(common):
            notes.append(
                f"{row_label(k)}: {len(s)} images, paired tests use the {len(common)} "
                "images all rows share"
            )
    radius, correct, family = {}, {}, {}
    for k in keys:
        sub = per_row[k].set_index("image").loc[common]
        radius[k] = sub["radius"].to_numpy(np.float64)
        correct[k] = sub["correct"].to_numpy(bool)
        family[k] = str(sub["family"].iloc[0]) if len(sub) else ""
    return BoardData(keys, np.asarray(common), radius, correct, family, notes)


def _second_moment(spec: Mapping[str, Any] | None) -> float | None:
    if spec is None:
        return None
    try:
        from harness.noise import from_spec

        return float(from_spec(dict(spec)).second_moment())
    except (ValueError, TypeError, NotImplementedError):
        return None


def reference_map(
    data: BoardData,
    reference: str,
    *,
    specs: Mapping[str, Mapping[str, Any]] | None = None,
    sigma0: Mapping[str, float] | None = None,
    gaussian_family: str = "gaussian",
) -> tuple[dict[RowKey, dict[str, RowKey]], list[str]]:
    """For every row, its reference rows by kind (``same-noise``, ``gaussian``)."""
    specs = specs or {}
    sigma0 = sigma0 or {}
    keys = set(data.keys)
    out: dict[RowKey, dict[str, RowKey]] = {}
    notes: list[str] = []
    for key in data.keys:
        model, noise, cert = key
        refs: dict[str, RowKey] = {}
        same = (model, noise, reference)
        if same in keys and same != key:
            refs[SAME_NOISE] = same
        if data.family[key] != gaussian_family:
            cands = sorted(
                k
                for k in keys
                if k[0] == model and k[2] == reference and data.family[k] == gaussian_family
            )
            choice = None
            if len(cands) == 1:
                choice = cands[0]
            elif len(cands) > 1:
                target = _second_moment(specs.get(noise))
                by_moment = [
                    k
                    for k in cands
                    if target is not None
                    and (m := _second_moment(specs.get(k[1]))) is not None
                    and np.isclose(m, target, rtol=1e-6)
                ]
                by_sigma = [
                    k
                    for k in cands
                    if model in sigma0
                    and np.isclose(
                        (specs.get(k[1]) or {}).get("params", {}).get("sigma", np.nan),
                        sigma0[model],
                    )
                ]
                pick = by_moment or by_sigma
                if len(pick) == 1:
                    choice = pick[0]
                else:
                    notes.append(
                        f"{row_label(key)}: {len(cands)} Gaussian {reference} rows on "
                        f"{model} and none matches; no Gaussian-reference comparison"
                    )
            if choice is not None:
                refs[GAUSSIAN] = choice
        out[key] = refs
    return out, notes


def best_key(data: BoardData, metric: str, r: float) -> RowKey:
    """The row with the highest value; ties broken by ACR, then by the (sorted) row order."""
    best, best_v = data.keys[0], (-np.inf, -np.inf)
    for k in data.keys:
        v = (data.value(k, metric, r), data.value(k, "acr", 0.0))
        if v > best_v:
            best, best_v = k, v
    return best


def _compare(data: BoardData, a: RowKey, b: RowKey, metric: str, r: float) -> dict[str, Any]:
    """Row ``a`` against row ``b`` on one metric."""
    rec: dict[str, Any] = {
        "value": data.value(a, metric, r),
        "other_value": data.value(b, metric, r),
    }
    n = len(data.images)
    rec["n"] = n
    if metric == "acr":
        res = stats.paired_difference_test(data.score(a), data.score(b))
        rec.update(
            test="wilcoxon signed-rank (paired)",
            p=res.wilcoxon_pvalue,
            p_exact=np.nan,
            diff_ci_low=res.ci_low,
            diff_ci_high=res.ci_high,
            n10=np.nan,
            n01=np.nan,
            z_unpaired=np.nan,
            p_unpaired=np.nan,
        )
        return rec
    x = data.certified(a, r)
    y = data.certified(b, r)
    mc = stats.mcnemar((x, y), mid_p=True)
    z = stats.two_proportion_ztest(int(x.sum()), n, int(y.sum()), n)
    rec.update(
        test="mcnemar mid-p (paired)",
        p=mc.pvalue_midp,
        p_exact=mc.pvalue_exact,
        diff_ci_low=np.nan,
        diff_ci_high=np.nan,
        n10=mc.n10,
        n01=mc.n01,
        z_unpaired=z.statistic,
        p_unpaired=z.pvalue,
    )
    return rec


def comparisons(
    data: BoardData,
    radii: Sequence[float],
    refs: Mapping[RowKey, Mapping[str, RowKey]],
) -> pd.DataFrame:
    """The long table of every comparison in one leaderboard, with adjusted p-values.

    Columns: kind, metric, radius, row, other, value, other_value, diff, n, n10 (images
    only ``row`` certifies), n01 (only ``other``), test, p (mid-p, or Wilcoxon for ACR),
    p_exact, p_unpaired, z_unpaired, diff_ci_low/high (ACR), p_holm, p_bh, family.
    """
    records = []
    metrics = [(metric_name(r), r) for r in radii] + [("acr", 0.0)]
    if len(data.keys) == 0 or len(data.images) == 0:
        return pd.DataFrame()
    for metric, r in metrics:
        for key in data.keys:
            for kind, other in refs.get(key, {}).items():
                rec = _compare(data, key, other, metric, r)
                rec.update(kind=kind, metric=metric, radius=r, row=key, other=other)
                records.append(rec)
        best = best_key(data, metric, r)
        for key in data.keys:
            if key == best:
                continue
            rec = _compare(data, best, key, metric, r)
            rec.update(kind=BEST, metric=metric, radius=r, row=best, other=key)
            records.append(rec)
    if not records:  # a single row with no reference: nothing to compare
        return pd.DataFrame()
    df = pd.DataFrame.from_records(records)
    df["diff"] = df["value"] - df["other_value"]
    df["is_acr"] = df["metric"] == "acr"
    # families: vs-reference per (kind, accuracy-or-ACR) over the whole grid; vs-best per column
    df["family"] = np.where(
        df["kind"] == BEST,
        "best:" + df["metric"],
        df["kind"] + np.where(df["is_acr"], ":acr", ":accuracy grid"),
    )
    df["p_holm"] = np.nan
    df["p_bh"] = np.nan
    for _, idx in df.groupby("family").groups.items():
        df.loc[idx, "p_holm"] = stats.holm(df.loc[idx, "p"].to_numpy())
        df.loc[idx, "p_bh"] = stats.benjamini_hochberg(df.loc[idx, "p"].to_numpy())
    cols = [
        "kind",
        "metric",
        "radius",
        "row",
        "other",
        "value",
        "other_value",
        "diff",
        "n",
        "n10",
        "n01",
        "test",
        "p",
        "p_exact",
        "p_holm",
        "p_bh",
        "z_unpaired",
        "p_unpaired",
        "diff_ci_low",
        "diff_ci_high",
        "family",
    ]
    return df[cols].reset_index(drop=True)


def marks(
    data: BoardData, comps: pd.DataFrame, level: float = 0.05
) -> dict[tuple[RowKey, str], str]:
    """Marks per (row, metric column), from :func:`comparisons`."""
    out: dict[tuple[RowKey, str], str] = {}

    def add(key: RowKey, metric: str, mark: str) -> None:
        out[(key, metric)] = out.get((key, metric), "") + mark

    if comps.empty:
        return out
    for rec in comps.itertuples(index=False):
        if rec.kind in (SAME_NOISE, GAUSSIAN) and rec.p_bh < level and rec.diff != 0:
            up = rec.diff > 0
            if rec.kind == SAME_NOISE:
                add(rec.row, rec.metric, MARK_UP if up else MARK_DOWN)
            else:
                add(rec.row, rec.metric, MARK_UP_G if up else MARK_DOWN_G)
    best = comps[comps["kind"] == BEST]
    for metric, g in best.groupby("metric", sort=False):
        if (g["value"] == g["other_value"]).all():
            continue  # every row has the same value: no best to mark
        winner = g["row"].iloc[0]
        separated = (g["p_holm"] < level) & (g["diff"] > 0)
        if bool(separated.all()):
            add(winner, metric, MARK_BEST)
        else:
            add(winner, metric, MARK_BEST_TIED)
            for rec in g[~separated].itertuples(index=False):
                add(rec.other, metric, MARK_TIED)
    return out
