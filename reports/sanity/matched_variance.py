"""``matched-variance``: every generalized-Gaussian noise has a Gaussian control with the
same ``E||z||^2`` on the same model; for each pair the report shows the mean p_A and
splits the ACR difference into the part from a different radius at the *same* p_A and
the part from a different p_A (where the gain comes from).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from harness.noise import Noise, rebuild_noise
from reports import stats
from reports.sanity.base import (
    FAIL,
    GROUP,
    PASS,
    SKIPPED,
    BoardRow,
    CheckResult,
    SanityCheck,
    SanityContext,
    SanityInputs,
    board_row,
    registered,
)
from reports.sanity.registry import register_check
from smoothbench.p_values import p_stated


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
    # the reference's rows by (model, noise, norm, alpha), grouped once: not the whole table
    # filtered again for every row of the family (seconds at thousands of images)
    references = dict(
        tuple(out[out["certifier"] == reference].groupby(["model", "noise", "norm", "alpha"]))
    )
    for model, mg in gg_rows.groupby("model", sort=True):
        model_noises = set(out.loc[out["model"] == model, "noise"])
        gauss = {
            nz: n
            for nz in model_noises
            if inputs.specs[nz].get("family") == "gaussian"
            and (n := rebuild_noise(inputs.specs[nz])) is not None
        }
        for gg_name, ng in mg.groupby("noise", sort=True):
            gg_noise = rebuild_noise(inputs.specs[gg_name])
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
                affected.update(board_row(k) for k in ng.groupby(GROUP).groups)
                details.append(
                    f"{model} | {gg_name}: no Gaussian control with E||z||^2 = {m2:.6g} "
                    f"on this model (Gaussians: {sorted(gauss) or 'none'})"
                )
                continue
            g_name = sorted(match)[0]
            for (norm, alpha, cert), cg in ng.groupby(["norm", "alpha", "certifier"], sort=True):
                base = references.get((model, g_name, norm, alpha))
                if base is None or base.empty:
                    details.append(
                        f"{model} | {gg_name} | {cert} | {norm}: no {reference} row on {g_name}"
                    )
                    continue
                pairs += 1
                details.append(
                    _variance_split(
                        inputs,
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
    inputs: SanityInputs,
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
    pa = stats.paired_difference_test(p_gg, p_g, interval=False)
    text = (
        f"{model} | {norm} | alpha={alpha:g}: {gg_name} + {cert} vs {g_name} + {reference}"
        f" (same E||z||^2, {len(both)} images): mean p_A {p_gg.mean():.4f} vs {p_g.mean():.4f}"
        f" (Wilcoxon p {p_stated(pa.wilcoxon_pvalue)}); ACR {score_gg.mean():.4f} vs"
        f" {score_g.mean():.4f}"
    )
    if registered(cert):
        c = inputs.certifier(cert)
        if c.supports(gg_noise, norm):
            at_g = np.asarray(c.radius(gg_noise, p_g, norm=norm), dtype=np.float64)
            counterfactual = float(np.where(both["correct_g"], at_g, 0.0).mean())
            ref_r = np.asarray(inputs.certifier(reference).radius(g_noise, p_g, norm=norm))
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


@register_check("matched-variance")
class MatchedVariance(SanityCheck):
    order = 70
    cost = 1.0

    def run(self, inputs: SanityInputs, context: SanityContext) -> CheckResult:
        return check_matched_variance(
            inputs, family=context.generalized_family, reference=context.reference
        )
