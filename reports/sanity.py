"""Sanity checks on a run's stored counts and certificates.

Each check returns a :class:`CheckResult`: ``pass`` or ``fail`` with the largest
discrepancy found, or ``skipped`` with the reason (its inputs are not in the store and
cannot be recomputed in this checkout). A failing check lists the leaderboard rows it
affects, as ``(dataset, norm, alpha, model, noise, certifier)``; the report marks them.

Checks (DESIGN.md, "The mathematics each part must get right"):

- ``corollary-1``: the functional certifier with Gaussian noise gives Cohen's l2 radius
  ``sigma * Phi^{-1}(p_A)`` on every image (Zhang et al. 2020, Corollary 1);
- ``corollary-2``: the same against l-inf, ``sigma * Phi^{-1}(p_A) / sqrt(d)``;
- ``hockey-stick``: the hockey-stick f-divergence certifier (Dvijotham et al. 2020)
  recovers Neyman-Pearson, hence Cohen, on Gaussian noise, for every norm stored;
- ``monotone``: every certifier's radius is non-decreasing in p_A on the stored data
  (sorted by p_lower; equal p_lower, equal radius; radius 0 at p_lower <= 1/2), and the
  registered certifier is also non-decreasing on a grid spanning the stored p_lower;
- ``reproducible``: the stored certificates are reproduced from the stored counts by the
  certifiers of this checkout (a stale or tampered store fails);
- ``matched-variance``: every generalized-Gaussian noise has a Gaussian control with the
  same ``E||z||^2`` on the same model; for each pair the report shows the mean p_A and
  splits the ACR difference into the part from a different radius at the *same* p_A
  and the part from a different p_A (where the gain comes from).

For Corollary 1/2 and the hockey-stick check, stored certificates are compared with
Cohen's radius at the stored ``p_lower``. When the store holds none but the certifier is
registered here, radii are recomputed from the stored counts (no leaderboard row is then
affected, but the check still passes or fails).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

import certifiers
from harness.noise import Gaussian, Noise, from_spec
from harness.store import Store
from reports import stats
from reports.tidy import load_counts, load_outcomes

BoardRow = tuple[str, str, float, str, str, str]  # dataset, norm, alpha, model, noise, certifier
GROUP = ["dataset", "norm", "alpha", "model", "noise", "certifier"]

PASS, FAIL, SKIPPED = "pass", "fail", "skipped"


@dataclass
class CheckResult:
    name: str
    title: str
    status: str
    summary: str
    details: list[str] = field(default_factory=list)
    max_diff: float | None = None
    affected: set[BoardRow] = field(default_factory=set)

    def line(self) -> str:
        return f"[{self.status.upper()}] {self.title}: {self.summary}"


@dataclass
class SanityInputs:
    """What the checks read: the tidy certificates, the raw counts and the noise specs."""

    outcomes: pd.DataFrame
    counts: pd.DataFrame
    specs: dict[str, dict[str, Any]]
    dataset: str

    @classmethod
    def from_store(cls, store: Store | str | Path) -> SanityInputs:
        owned = not isinstance(store, Store)
        st = Store.open_existing(store) if owned else store
        try:
            return cls(
                load_outcomes(st), load_counts(st), st.noise_specs(), st.get_manifest("dataset")
            )
        finally:
            if owned:
                st.close()


# --------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------
def _registered(name: str) -> bool:
    return name in certifiers.available()


def _noise(spec: Mapping[str, Any] | None) -> Noise | None:
    """Rebuild a stored noise; None when its family is not registered in this checkout."""
    if spec is None:
        return None
    try:
        return from_spec(dict(spec))
    except (ValueError, TypeError):
        return None


def _as_gaussian(spec: Mapping[str, Any], gg_family: str) -> Gaussian | None:
    """The Gaussian a stored noise is, if it is one: family ``gaussian``, or the
    generalized Gaussian with ``k = 0`` (its l2 member is N(0, sigma^2 I))."""
    params = dict(spec.get("params", {}))
    try:
        if spec.get("family") == "gaussian":
            return Gaussian(sigma=params["sigma"], dim=params["dim"])
        if spec.get("family") == gg_family and params.get("k") == 0 and "sigma" in params:
            return Gaussian(sigma=params["sigma"], dim=params["dim"])
    except (KeyError, TypeError, ValueError):
        return None
    return None


def _row(key: tuple) -> BoardRow:
    dataset, norm, alpha, model, noise, cert = key
    return (str(dataset), str(norm), float(alpha), str(model), str(noise), str(cert))


def _p_lower_from_counts(
    counts: pd.DataFrame, model: str, noise: str, alpha: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(images, labels, predictions, p_lower) recomputed from stored counts (Cohen's
    CERTIFY: top class from the selection counts, Clopper-Pearson bound from the
    estimation counts)."""
    from harness.runner import top_class_bound

    g = counts[(counts["model"] == model) & (counts["noise"] == noise)].sort_values("image")
    if g.empty:
        empty = np.zeros(0)
        return empty.astype(int), empty.astype(int), empty.astype(int), empty
    top, p = top_class_bound(np.stack(g["selection"]), np.stack(g["estimation"]), alpha)
    p = np.atleast_1d(np.asarray(p, dtype=np.float64))
    pred = np.where(p > 0.5, top, -1)
    return g["image"].to_numpy(), g["label"].to_numpy(), pred, p


def _within(a: np.ndarray, b: np.ndarray, rtol: float, atol: float) -> np.ndarray:
    return np.abs(a - b) <= atol + rtol * np.abs(b)


# --------------------------------------------------------------------------------------
# Corollary 1 / 2 and the hockey-stick check: a certifier equals Cohen on Gaussian noise
# --------------------------------------------------------------------------------------
def check_equals_cohen(
    inputs: SanityInputs,
    *,
    name: str,
    title: str,
    certifier: str,
    norms: Sequence[str] | None,
    cohen: str = "cohen",
    gg_family: str = "generalized_gaussian",
    rtol: float = 1e-4,
    atol: float = 1e-6,
) -> CheckResult:
    """``certifier``'s radius equals Cohen's at the same p_lower on every Gaussian row.

    Tolerance: ``|R - R_cohen| <= atol + rtol * R_cohen`` (numerical certifiers integrate
    or root-find; the largest difference is printed whatever it is).
    """
    out = inputs.outcomes
    gaussians = {nz: g for nz, spec in inputs.specs.items() if (g := _as_gaussian(spec, gg_family))}
    if not _registered(cohen):
        return CheckResult(name, title, SKIPPED, f"reference certifier {cohen!r} not registered")
    if not gaussians:
        return CheckResult(name, title, SKIPPED, "the store holds no Gaussian noise")
    ref = certifiers.get(cohen)
    rows = out[(out["certifier"] == certifier) & out["noise"].isin(list(gaussians))]
    if norms is not None:
        rows = rows[rows["norm"].isin(list(norms))]
    details: list[str] = []
    affected: set[BoardRow] = set()
    max_diff = 0.0
    compared = 0
    if not rows.empty:
        for key, g in rows.groupby(GROUP, sort=True):
            noise = gaussians[key[4]]
            want = np.asarray(ref.radius(noise, g["p_lower"].to_numpy(), norm=key[1]))
            got = g["radius"].to_numpy(np.float64)
            diff = np.abs(got - want)
            i = int(np.argmax(diff))
            max_diff = max(max_diff, float(diff[i]))
            compared += len(g)
            ok = _within(got, want, rtol, atol)
            label = f"{key[3]} | {key[4]} | {key[1]} | alpha={key[2]:g}"
            if ok.all():
                details.append(f"{label}: {len(g)} images, max |diff| = {diff[i]:.3g}")
            else:
                affected.add(_row(key))
                img = int(g["image"].iloc[i])
                details.append(
                    f"{label}: {int((~ok).sum())} of {len(g)} images differ; worst image {img}:"
                    f" p_lower={g['p_lower'].iloc[i]:.6f}, {certifier}={got[i]:.6g},"
                    f" {cohen}={want[i]:.6g}"
                )
        source = "stored certificates"
    elif _registered(certifier):
        c = certifiers.get(certifier)
        alphas = sorted(out["alpha"].unique()) if not out.empty else [0.001]
        norm_list = list(norms) if norms is not None else list(certifiers.NORMS)
        bad = 0
        for (model, noise_name), _ in inputs.counts.groupby(["model", "noise"], sort=True):
            if noise_name not in gaussians:
                continue
            noise_obj = _noise(inputs.specs[noise_name])
            if noise_obj is None:
                continue
            for alpha in alphas:
                _, _, _, p = _p_lower_from_counts(inputs.counts, model, noise_name, alpha)
                for norm in norm_list:
                    if not (
                        c.supports(noise_obj, norm) and ref.supports(gaussians[noise_name], norm)
                    ):
                        continue
                    got = np.asarray(c.radius(noise_obj, p, norm=norm))
                    want = np.asarray(ref.radius(gaussians[noise_name], p, norm=norm))
                    diff = np.abs(got - want)
                    compared += len(p)
                    max_diff = max(max_diff, float(diff.max(initial=0.0)))
                    ok = _within(got, want, rtol, atol)
                    bad += int((~ok).sum())
                    details.append(
                        f"{model} | {noise_name} | {norm} | alpha={alpha:g} (recomputed):"
                        f" {len(p)} images, max |diff| = {diff.max(initial=0.0):.3g}"
                    )
        source = "radii recomputed from the stored counts"
        if bad:
            return CheckResult(
                name,
                title,
                FAIL,
                f"{bad} radii differ from Cohen ({source}); largest difference {max_diff:.3g}",
                details,
                max_diff,
            )
    else:
        return CheckResult(
            name,
            title,
            SKIPPED,
            f"certifier {certifier!r} is not registered in this checkout and the store "
            f"holds no {certifier!r} certificates on Gaussian noise",
        )
    if compared == 0:
        return CheckResult(
            name,
            title,
            SKIPPED,
            f"{certifier!r} certifies none of the stored Gaussian noises for the norms checked",
        )
    if affected:
        return CheckResult(
            name,
            title,
            FAIL,
            f"{len(affected)} row(s) differ from Cohen beyond {atol:g} + {rtol:g} R;"
            f" largest difference {max_diff:.3g}",
            details,
            max_diff,
            affected,
        )
    return CheckResult(
        name,
        title,
        PASS,
        f"{compared} radii equal Cohen's ({source}); largest difference {max_diff:.3g}",
        details,
        max_diff,
    )


# --------------------------------------------------------------------------------------
# Monotone in p
# --------------------------------------------------------------------------------------
def check_monotone(inputs: SanityInputs, tol: float = 1e-9, grid_points: int = 64) -> CheckResult:
    """Radius non-decreasing in p_lower, on the stored rows and on a p grid.

    Stored rows of each (dataset, norm, alpha, model, noise, certifier): sorted by
    p_lower, the radius may not drop by more than ``tol * (1 + R)``; equal p_lower must
    give equal radius; p_lower <= 1/2 must give radius 0. Where the certifier and the
    noise are registered here (and the certifier is deterministic), the certifier is also
    evaluated on ``grid_points`` values of p spanning (1/2, max stored p_lower].
    """
    name, title = "monotone", "every certifier is monotone in p_A"
    out = inputs.outcomes
    if out.empty:
        return CheckResult(name, title, SKIPPED, "the store holds no certificates")
    affected: set[BoardRow] = set()
    details: list[str] = []
    worst = 0.0
    n_groups = 0
    grid_checked = 0
    for key, g in out.groupby(GROUP, sort=True):
        n_groups += 1
        p = g["p_lower"].to_numpy(np.float64)
        r = g["radius"].to_numpy(np.float64)
        order = np.lexsort((r, p))
        p, r = p[order], r[order]
        problems = []
        drop = r[:-1] - r[1:] - tol * (1.0 + r[:-1])
        if len(r) > 1 and (drop > 0).any():
            problems.append(f"radius drops by {float((r[:-1] - r[1:]).max()):.3g} as p grows")
            worst = max(worst, float((r[:-1] - r[1:]).max()))
        same_p = np.diff(p) == 0
        if same_p.any():
            spread = np.abs(np.diff(r))[same_p]
            if (spread > tol * (1.0 + r[1:][same_p])).any():
                problems.append(f"equal p_lower, radii differ by {float(spread.max()):.3g}")
                worst = max(worst, float(spread.max()))
        low = p <= 0.5
        if (r[low] != 0).any():
            problems.append(f"radius {float(np.abs(r[low]).max()):.3g} at p_lower <= 1/2")
            worst = max(worst, float(np.abs(r[low]).max()))
        cert_name, noise_name, norm = key[5], key[4], key[1]
        noise = _noise(inputs.specs.get(noise_name))
        if noise is not None and _registered(cert_name) and (p > 0.5).any():
            c = certifiers.get(cert_name)
            if c.deterministic and c.supports(noise, norm):
                grid = np.linspace(0.5, p.max(), grid_points)[1:]
                rg = np.asarray(c.radius(noise, grid, norm=norm), dtype=np.float64)
                gdrop = rg[:-1] - rg[1:]
                grid_checked += 1
                if (gdrop > tol * (1.0 + rg[:-1])).any():
                    problems.append(f"{cert_name} drops by {float(gdrop.max()):.3g} on a p grid")
                    worst = max(worst, float(gdrop.max()))
        if problems:
            affected.add(_row(key))
            details.append(
                f"{key[3]} | {noise_name} | {cert_name} | {norm} | alpha={key[2]:g}: "
                + "; ".join(problems)
            )
    if affected:
        return CheckResult(
            name,
            title,
            FAIL,
            f"{len(affected)} of {n_groups} row(s) not monotone; largest violation {worst:.3g}",
            details,
            worst,
            affected,
        )
    return CheckResult(
        name,
        title,
        PASS,
        f"{n_groups} row(s) monotone on the stored data ({grid_checked} also on a p grid)",
        details,
        0.0,
    )


# --------------------------------------------------------------------------------------
# Reproducible from counts
# --------------------------------------------------------------------------------------
def check_reproducible(
    inputs: SanityInputs, rtol: float = 1e-9, atol: float = 1e-12
) -> CheckResult:
    """Stored p_lower, prediction, correctness and radius equal what this checkout
    computes from the stored counts (certifiers that spend Monte Carlo confidence, and
    those or noises not registered here, are listed as not recomputed)."""
    name, title = "reproducible", "certificates reproduce from the stored counts"
    out = inputs.outcomes
    if out.empty or inputs.counts.empty:
        return CheckResult(name, title, SKIPPED, "the store holds no certificates or counts")
    affected: set[BoardRow] = set()
    details: list[str] = []
    skipped: set[str] = set()
    worst = 0.0
    checked = 0
    cache: dict[tuple[str, str, float], tuple] = {}
    for key, g in out.groupby(GROUP, sort=True):
        dataset, norm, alpha, model, noise_name, cert_name = key
        noise = _noise(inputs.specs.get(noise_name))
        if noise is None:
            skipped.add(f"noise {noise_name} (family not registered here)")
            continue
        if not _registered(cert_name):
            skipped.add(f"certifier {cert_name} (not registered here)")
            continue
        c = certifiers.get(cert_name)
        if not c.deterministic:
            skipped.add(f"certifier {cert_name} (Monte Carlo)")
            continue
        ck = (model, noise_name, float(alpha))
        if ck not in cache:
            cache[ck] = _p_lower_from_counts(inputs.counts, model, noise_name, float(alpha))
        images, labels, pred, p = cache[ck]
        idx = pd.Series(np.arange(len(images)), index=images)
        g = g[g["image"].isin(images)]
        pos = idx.loc[g["image"]].to_numpy()
        problems = []
        if not np.allclose(g["p_lower"].to_numpy(), p[pos], rtol=rtol, atol=atol):
            problems.append("p_lower")
        if (g["prediction"].to_numpy() != pred[pos]).any():
            problems.append("prediction")
        if (g["correct"].to_numpy(bool) != (pred[pos] == labels[pos])).any():
            problems.append("correct")
        if c.supports(noise, norm):
            want = np.asarray(c.radius(noise, p[pos], norm=norm), dtype=np.float64)
            got = g["radius"].to_numpy(np.float64)
            diff = float(np.abs(got - want).max(initial=0.0))
            worst = max(worst, diff)
            if not _within(got, want, rtol, atol).all():
                problems.append(f"radius (max |diff| {diff:.3g})")
        else:
            problems.append(f"{cert_name} does not support {noise_name} against {norm}")
        checked += 1
        if problems:
            affected.add(_row(key))
            details.append(
                f"{model} | {noise_name} | {cert_name} | {norm} | alpha={alpha:g}: "
                + ", ".join(problems)
                + " differ"
            )
    note = f"; not recomputed: {', '.join(sorted(skipped))}" if skipped else ""
    if checked == 0:
        return CheckResult(name, title, SKIPPED, "nothing could be recomputed here" + note)
    if affected:
        return CheckResult(
            name,
            title,
            FAIL,
            f"{len(affected)} of {checked} row(s) differ from a recomputation{note}",
            details,
            worst,
            affected,
        )
    return CheckResult(
        name,
        title,
        PASS,
        f"{checked} row(s) recomputed, largest radius difference {worst:.3g}{note}",
        details,
        worst,
    )


# --------------------------------------------------------------------------------------
# Matched-variance control
# --------------------------------------------------------------------------------------
def check_matched_variance(
    inputs: SanityInputs,
    *,
    family: str = "generalized_gaussian",
    reference: str = "cohen",
    rtol: float = 1e-6,
) -> CheckResult:
    """Generalized Gaussian rows against the Gaussian with the same ``E||z||^2``.

    For every model, each noise of ``family`` is paired with the Gaussian noise on the
    same model whose second moment agrees to ``rtol``; none found is a failure (the gain
    of that noise cannot be attributed). For each (norm, alpha, certifier on the
    generalized Gaussian) the details give mean p_A on both noises (paired Wilcoxon p),
    ACR of both rows and a split of the ACR gain ``ACR_gg - ACR_g``:

    - *radius at the same p_A*: ``mean(1[correct_g] R_gg(p_g)) - ACR_g``, the gain if
      the generalized-Gaussian certifier were handed the Gaussian's p_A (and its
      correctness): the robustness term;
    - *p_A*: the rest, ``ACR_gg - mean(1[correct_g] R_gg(p_g))``: the accuracy term.

    The first needs the certifier and the noise family registered here; without them
    only mean p_A and ACR are shown.
    """
    name, title = "matched-variance", "matched-variance control (generalized vs plain Gaussian)"
    out = inputs.outcomes
    gg_noises = sorted(nz for nz, s in inputs.specs.items() if s.get("family") == family)
    gg_rows = out[out["noise"].isin(gg_noises)]
    if gg_rows.empty:
        return CheckResult(name, title, SKIPPED, f"the store holds no {family!r} certificates")
    details: list[str] = []
    affected: set[BoardRow] = set()
    pairs = 0
    for model, mg in gg_rows.groupby("model", sort=True):
        model_noises = set(out.loc[out["model"] == model, "noise"])
        gauss = {
            nz: n
            for nz in model_noises
            if inputs.specs[nz].get("family") == "gaussian"
            and (n := _noise(inputs.specs[nz])) is not None
        }
        for gg_name, ng in mg.groupby("noise", sort=True):
            gg_noise = _noise(inputs.specs[gg_name])
            if gg_noise is None:
                details.append(
                    f"{model} | {gg_name}: family {family!r} not registered here, so "
                    "E||z||^2 cannot be computed; control not checked"
                )
                continue
            try:
                m2 = gg_noise.second_moment()
            except NotImplementedError:
                details.append(f"{model} | {gg_name}: second moment unknown; not checked")
                continue
            match = [nz for nz, n in gauss.items() if np.isclose(n.second_moment(), m2, rtol=rtol)]
            if not match:
                affected.update(_row(k) for k in ng.groupby(GROUP).groups)
                details.append(
                    f"{model} | {gg_name}: no Gaussian control with E||z||^2 = {m2:.6g} "
                    f"on this model (Gaussians: {sorted(gauss) or 'none'})"
                )
                continue
            g_name = sorted(match)[0]
            for (norm, alpha, cert), cg in ng.groupby(["norm", "alpha", "certifier"], sort=True):
                base = out[
                    (out["model"] == model)
                    & (out["noise"] == g_name)
                    & (out["norm"] == norm)
                    & (out["alpha"] == alpha)
                    & (out["certifier"] == reference)
                ]
                if base.empty:
                    details.append(
                        f"{model} | {gg_name} | {cert} | {norm}: no {reference} row on {g_name}"
                    )
                    continue
                pairs += 1
                details.append(
                    _variance_split(
                        model,
                        gg_name,
                        g_name,
                        gauss[g_name],
                        gg_noise,
                        cert,
                        reference,
                        norm,
                        float(alpha),
                        cg,
                        base,
                    )
                )
    if affected:
        return CheckResult(
            name,
            title,
            FAIL,
            f"{len(affected)} row(s) on a {family} noise lack a matched Gaussian control",
            details,
            None,
            affected,
        )
    if pairs == 0:
        return CheckResult(name, title, SKIPPED, "no comparable pair found", details)
    return CheckResult(
        name, title, PASS, f"{pairs} matched pair(s); where the gain comes from below", details
    )


def _variance_split(
    model: str,
    gg_name: str,
    g_name: str,
    g_noise: Noise,
    gg_noise: Noise,
    cert: str,
    reference: str,
    norm: str,
    alpha: float,
    gg: pd.DataFrame,
    g: pd.DataFrame,
) -> str:
    both = gg.merge(g, on="image", suffixes=("_gg", "_g"))
    p_gg = both["p_lower_gg"].to_numpy(np.float64)
    p_g = both["p_lower_g"].to_numpy(np.float64)
    score_gg = np.where(both["correct_gg"], both["radius_gg"], 0.0)
    score_g = np.where(both["correct_g"], both["radius_g"], 0.0)
    pa = stats.paired_difference_test(p_gg, p_g)
    text = (
        f"{model} | {norm} | alpha={alpha:g}: {gg_name} + {cert} vs {g_name} + {reference}"
        f" (same E||z||^2, {len(both)} images): mean p_A {p_gg.mean():.4f} vs {p_g.mean():.4f}"
        f" (Wilcoxon p = {pa.wilcoxon_pvalue:.3g}); ACR {score_gg.mean():.4f} vs"
        f" {score_g.mean():.4f}"
    )
    if _registered(cert):
        c = certifiers.get(cert)
        if c.supports(gg_noise, norm):
            at_g = np.asarray(c.radius(gg_noise, p_g, norm=norm), dtype=np.float64)
            counterfactual = float(np.where(both["correct_g"], at_g, 0.0).mean())
            ref_r = np.asarray(certifiers.get(reference).radius(g_noise, p_g, norm=norm))
            mask = p_g > 0.5
            mean_at = float(at_g[mask].mean()) if mask.any() else 0.0
            mean_ref = float(ref_r[mask].mean()) if mask.any() else 0.0
            text += (
                f"; at the Gaussian's p_A the radius is {mean_at:.4f} vs {mean_ref:.4f} (mean"
                f" over p_A > 1/2); ACR gain {score_gg.mean() - score_g.mean():+.4f} ="
                f" {counterfactual - score_g.mean():+.4f} (radius at the same p_A)"
                f" {score_gg.mean() - counterfactual:+.4f} (p_A)"
            )
    return text


def check_framework_integral(
    inputs: SanityInputs,
    *,
    functional: str = "functional",
    cohen: str = "cohen",
    points: int = 12,
    rtol: float = 1e-6,
) -> CheckResult:
    """Corollary 1 without the shortcut: the functional framework's exact Neyman-Pearson
    integral for the l2 family with ``k = 0`` (``functional_l2.radius_direct``, root
    finding on a 1-D integral of a regularized incomplete beta function, no closed form)
    must give ``sigma Phi^{-1}(p)`` at the stored p_lower of every Gaussian row.

    The registered certifier answers Gaussian noise with the closed form (Corollary 1 is a
    theorem), so this check is what keeps the corollary a test on the stored data. It
    evaluates ``points`` p_lower values per (model, noise), spread over their quantiles
    (tens of milliseconds each).
    """
    name = "framework-integral"
    title = "Corollary 1 through the framework's integral (k = 0, no closed form)"
    from certifiers import functional_l2

    out = inputs.outcomes
    rows = out[(out["certifier"] == cohen) & (out["norm"] == "l2") & (out["p_lower"] > 0.5)]
    gaussians = {nz: spec for nz, spec in inputs.specs.items() if spec.get("family") == "gaussian"}
    rows = rows[rows["noise"].isin(list(gaussians))]
    if rows.empty:
        return CheckResult(name, title, SKIPPED, "the store holds no certified Gaussian l2 rows")
    details: list[str] = []
    affected: set[BoardRow] = set()
    worst = 0.0
    compared = 0
    failed = False
    for (model, noise_name), g in rows.groupby(["model", "noise"], sort=True):
        params = gaussians[noise_name]["params"]
        sigma, dim = float(params["sigma"]), int(params["dim"])
        p = np.unique(np.quantile(g["p_lower"].to_numpy(), np.linspace(0, 1, points)))
        got = functional_l2.radius_direct(sigma, 0, dim, p)
        want = np.asarray(certifiers.get(cohen).radius(from_spec(gaussians[noise_name]), p))
        rel = np.abs(got - want) / np.maximum(want, 1e-300)
        i = int(np.argmax(rel))
        worst = max(worst, float(rel[i]))
        compared += len(p)
        label = f"{model} | {noise_name}"
        if (rel <= rtol).all():
            details.append(f"{label}: {len(p)} p_lower values, max relative diff {rel[i]:.2g}")
        else:
            failed = True
            for key, _ in out[
                (out["certifier"] == functional) & (out["noise"] == noise_name)
                & (out["model"] == model)
            ].groupby(GROUP, sort=True):  # fmt: skip
                affected.add(_row(key))
            details.append(
                f"{label}: at p_lower={p[i]:.8f} the integral gives {got[i]:.8g}, "
                f"Cohen {want[i]:.8g} (relative diff {rel[i]:.2g} > {rtol:g})"
            )
    status = FAIL if failed else PASS
    summary = (
        f"{compared} stored p_lower values, largest relative difference {worst:.2g} "
        f"(tolerance {rtol:g})"
    )
    return CheckResult(name, title, status, summary, details, worst, affected)


# --------------------------------------------------------------------------------------
# all checks
# --------------------------------------------------------------------------------------
def run_checks(
    inputs: SanityInputs,
    *,
    functional: str = "functional",
    hockey_stick: str = "fdiv-hockey-stick",
    cohen: str = "cohen",
    gg_family: str = "generalized_gaussian",
) -> list[CheckResult]:
    """Every check, in report order. Certifier and family names are parameters so that
    tests can exercise the checks with test-only certifiers."""
    return [
        check_equals_cohen(
            inputs,
            name="corollary-1",
            title=f"Corollary 1: {functional} = {cohen} on Gaussian noise, l2",
            certifier=functional,
            norms=("l2",),
            cohen=cohen,
            gg_family=gg_family,
        ),
        check_framework_integral(inputs, functional=functional, cohen=cohen),
        check_equals_cohen(
            inputs,
            name="corollary-2",
            title=f"Corollary 2: {functional} = {cohen} on Gaussian noise, l-inf",
            certifier=functional,
            norms=("linf",),
            cohen=cohen,
            gg_family=gg_family,
        ),
        check_equals_cohen(
            inputs,
            name="hockey-stick",
            title=f"{hockey_stick} = {cohen} on Gaussian noise",
            certifier=hockey_stick,
            norms=None,
            cohen=cohen,
            gg_family=gg_family,
        ),
        check_monotone(inputs),
        check_reproducible(inputs),
        check_matched_variance(inputs, family=gg_family, reference=cohen),
    ]


def affected_rows(results: Iterable[CheckResult]) -> dict[BoardRow, list[str]]:
    """Leaderboard row -> names of the failing checks that affect it."""
    out: dict[BoardRow, list[str]] = {}
    for res in results:
        if res.status == FAIL:
            for row in res.affected:
                out.setdefault(row, []).append(res.name)
    return out
