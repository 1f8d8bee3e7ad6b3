"""``monotone``: every certifier's radius is non-decreasing in p_A on the stored data
(sorted by p_lower; equal p_lower, equal radius; radius 0 at p_lower <= 1/2), and the
registered certifier is also non-decreasing on a grid spanning the stored p_lower.
"""

from __future__ import annotations

import numpy as np

from harness.noise import rebuild_noise
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


def check_monotone(inputs: SanityInputs, tol: float = 1e-9, grid_points: int = 64) -> CheckResult:
    """Radius non-decreasing in p_lower, on the stored rows and on a p grid.

    Stored rows of each (dataset, norm, alpha, model, noise, certifier): sorted by
    p_lower, the radius may not drop by more than ``tol * (1 + R)``; equal p_lower must
    give equal radius; p_lower <= 1/2 must give radius 0. Where the certifier and the
    noise are registered here (and its certificate is exact), the certifier is also
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
        noise = rebuild_noise(inputs.specs.get(noise_name))
        if noise is not None and registered(cert_name) and (p > 0.5).any():
            c = inputs.certifier(cert_name)
            if c.supports(noise, norm) and c.is_exact(noise, norm):
                grid = np.linspace(0.5, p.max(), grid_points)[1:]
                rg = np.asarray(c.radius(noise, grid, norm=norm), dtype=np.float64)
                gdrop = rg[:-1] - rg[1:]
                grid_checked += 1
                if (gdrop > tol * (1.0 + rg[:-1])).any():
                    problems.append(f"{cert_name} drops by {float(gdrop.max()):.3g} on a p grid")
                    worst = max(worst, float(gdrop.max()))
        if problems:
            affected.add(board_row(key))
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


@register_check("monotone")
class Monotone(SanityCheck):
    order = 50
    cost = 2.0

    def run(self, inputs: SanityInputs, context: SanityContext) -> CheckResult:
        return check_monotone(inputs)
