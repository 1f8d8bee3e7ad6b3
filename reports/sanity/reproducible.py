"""``reproducible``: the stored certificates are reproduced from the stored counts by the
certifiers of this checkout, built with the options recorded in the store (a stale or
tampered store fails). The prediction, its correctness and p_lower depend only on the
counts and alpha, so they are recomputed for every row, whatever its certifier; the
radius wherever the certifier is exact here (a Monte Carlo table: listed as not
recomputed). A row whose radius cannot be recomputed because its certifier or its noise
family is not registered in this environment is not counted as reproduced: the check is
``incomplete`` rather than ``pass`` and lists the row in ``unchecked`` with the reason.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from harness.noise import rebuild_noise
from reports.sanity.base import (
    FAIL,
    GROUP,
    INCOMPLETE,
    PASS,
    SKIPPED,
    BoardRow,
    CheckResult,
    SanityCheck,
    SanityContext,
    SanityInputs,
    board_row,
    p_lower_from_counts,
    registered,
    unregistered,
    why_no_noise,
    within,
)
from reports.sanity.registry import register_check


def check_reproducible(
    inputs: SanityInputs, rtol: float = 1e-9, atol: float = 1e-12
) -> CheckResult:
    """Stored p_lower, prediction, correctness and radius equal what this checkout
    computes from the stored counts (the radii of certifiers that spend Monte Carlo
    confidence are listed as not recomputed; rows of a certifier or noise family not
    registered here make the check incomplete: their radii cannot be reproduced; their
    p_lower is, with the law distance certification recorded for the noise)."""
    name, title = "reproducible", "certificates reproduce from the stored counts"
    out = inputs.outcomes
    if out.empty or inputs.counts.empty:
        return CheckResult(name, title, SKIPPED, "the store holds no certificates or counts")
    affected: set[BoardRow] = set()
    details: list[str] = []
    skipped: set[str] = set()
    missing: dict[str, set[str]] = {}  # certifier -> why its radii cannot be recomputed
    unchecked: dict[BoardRow, str] = {}
    worst = 0.0
    checked = with_radius = 0
    cache: dict[tuple[str, str, float], tuple] = {}
    unrecorded = 0.0  # the largest distance a store certified without recording them took
    for key, g in out.groupby(GROUP, sort=True):
        dataset, norm, alpha, model, noise_name, cert_name = key
        spec = inputs.specs.get(noise_name)
        noise = rebuild_noise(spec)
        c = None
        why = None
        if noise is None:
            why = why_no_noise(noise_name, spec)
        elif not registered(cert_name):
            why = unregistered("certifier", cert_name)
        else:
            c = inputs.certifier(cert_name)
            if not c.is_exact(noise, norm):
                skipped.add(f"radii of {cert_name} on {noise.family} against {norm} (Monte Carlo)")
                c = None
        if why is not None:
            missing.setdefault(cert_name, set()).add(why)
            unchecked[board_row(key)] = f"radius not recomputed: {why}"
        distance = inputs.law_distance(noise_name, noise)
        if distance is None:  # nothing says what certification subtracted: unchecked
            continue
        if not inputs.law_distances:
            unrecorded = max(unrecorded, distance)
        ck = (model, noise_name, float(alpha))
        if ck not in cache:
            cache[ck] = p_lower_from_counts(
                inputs.counts, model, noise_name, float(alpha), distance
            )
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
            try:
                want = np.asarray(c.radius(noise, p[pos], norm=norm), dtype=np.float64)
            except Exception as err:  # a plugin's certifier that no longer computes them
                problems.append(f"radius (the certifier raised {type(err).__name__}: {err})")
                want = None
        else:
            want = None
        if want is not None:
            got = g["radius"].to_numpy(np.float64)
            diff = float(np.abs(got - want).max(initial=0.0))
            worst = max(worst, diff)
            with_radius += 1
            if not within(got, want, rtol, atol).all():
                problems.append(f"radius (max |diff| {diff:.3g})")
        elif c is not None and not c.supports(noise, norm):
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
    if missing:
        note += f"; not reproducible here, {len(unchecked)} row(s): " + ", ".join(
            f"radii of {cert} ({'; '.join(sorted(why))})" for cert, why in sorted(missing.items())
        )
    if unrecorded > 0:
        note += (
            "; the store records no law distances (certified before they were subtracted): "
            f"its p_lower may exceed a recomputation by up to {unrecorded:.2g}, below this "
            "check's tolerance where it passes; run smoothbench certify again"
        )
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
            unchecked,
        )
    partly = f" ({checked - with_radius} without their radius)" if with_radius < checked else ""
    return CheckResult(
        name,
        title,
        INCOMPLETE if unchecked else PASS,
        f"{checked} row(s) recomputed{partly}, largest radius difference {worst:.3g}{note}",
        details,
        worst,
        unchecked=unchecked,
    )


@register_check("reproducible")
class Reproducible(SanityCheck):
    order = 60
    cost = 4.0

    def run(self, inputs: SanityInputs, context: SanityContext) -> CheckResult:
        return check_reproducible(inputs)
