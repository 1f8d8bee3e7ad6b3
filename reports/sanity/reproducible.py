"""``reproducible``: the stored certificates are reproduced from the stored counts by the
certifiers of this checkout, built with the options recorded in the store (a stale or
tampered store fails). The prediction, its correctness and p_lower depend only on the
counts and alpha, so they are recomputed for every row, whatever its certifier; the
radius wherever the certifier is exact here (a Monte Carlo table, a certifier or a noise
family this checkout lacks: listed as not recomputed).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

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
    p_lower_from_counts,
    rebuild_noise,
    registered,
    within,
)
from reports.sanity.registry import register_check


def check_reproducible(
    inputs: SanityInputs, rtol: float = 1e-9, atol: float = 1e-12
) -> CheckResult:
    """Stored p_lower, prediction, correctness and radius equal what this checkout
    computes from the stored counts (the radii of certifiers that spend Monte Carlo
    confidence, and of those or noises not registered here, are listed as not
    recomputed)."""
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
        noise = rebuild_noise(inputs.specs.get(noise_name))
        c = None
        if noise is None:
            skipped.add(f"radii on noise {noise_name} (family not registered here)")
        elif not registered(cert_name):
            skipped.add(f"radii of certifier {cert_name} (not registered here)")
        else:
            c = inputs.certifier(cert_name)
            if not c.is_exact(noise, norm):
                skipped.add(f"radii of {cert_name} on {noise.family} against {norm} (Monte Carlo)")
                c = None
        ck = (model, noise_name, float(alpha))
        if ck not in cache:
            cache[ck] = p_lower_from_counts(inputs.counts, model, noise_name, float(alpha))
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
        if c is not None and c.supports(noise, norm):
            want = np.asarray(c.radius(noise, p[pos], norm=norm), dtype=np.float64)
            got = g["radius"].to_numpy(np.float64)
            diff = float(np.abs(got - want).max(initial=0.0))
            worst = max(worst, diff)
            if not within(got, want, rtol, atol).all():
                problems.append(f"radius (max |diff| {diff:.3g})")
        elif c is not None:
            problems.append(f"{cert_name} does not support {noise_name} against {norm}")
        checked += 1
        if problems:
            affected.add(board_row(key))
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


@register_check("reproducible")
class Reproducible(SanityCheck):
    order = 60
    cost = 4.0

    def run(self, inputs: SanityInputs, context: SanityContext) -> CheckResult:
        return check_reproducible(inputs)
