"""``framework-integral``: Corollary 1 through the functional framework's own integral at
``k = 0`` (no closed form), and through the cached table the certifier looks radii up in
for ``k != 0`` (built at ``k = 0``), at the stored p_lower of every Gaussian row.
"""

from __future__ import annotations

import numpy as np

from certifiers.functional import l2 as functional_l2
from harness.noise import from_spec
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
)
from reports.sanity.registry import register_check


def check_framework_integral(
    inputs: SanityInputs,
    *,
    functional: str = "functional",
    cohen: str = "cohen",
    points: int = 5,
    rtol: float = 1e-6,
    atol: float = 1e-8,
    table_rtol: float = 1e-3,
    table_atol: float = 1e-5,
    above_rtol: float = 1e-9,
) -> CheckResult:
    """Corollary 1 without the shortcut: the functional framework's exact Neyman-Pearson
    integral for the l2 family with ``k = 0`` (``functional_l2.radius_direct``, root
    finding on a 1-D integral of a regularized incomplete beta function, no closed form)
    must give ``sigma Phi^{-1}(p)`` at the stored p_lower of every Gaussian row, within
    ``rtol`` of it plus ``atol sigma``: the integral is accurate to about ``1.25e-9 sigma``
    whatever the radius (measured at d = 64 and 3072 for p from 0.5 + 1e-9 to 1 - 1e-6),
    so that near p = 1/2, where the radius is tiny, its relative difference alone means
    nothing (2.3e-6 at p_lower = 0.50021, a radius of 5.3e-4 sigma).

    The registered certifier answers Gaussian noise with the closed form (Corollary 1 is a
    theorem), so this check is what keeps the corollary a test on the stored data. It
    evaluates ``points`` p_lower values per (model, noise), spread over their quantiles
    (tens of milliseconds each).

    The table the certifier uses for ``k != 0`` (``functional_l2.radius_table``, built once
    per dimension and cached), built at ``k = 0``, must give a radius never above Cohen's
    (``above_rtol`` above at most, float rounding: it is rounded down) and at most
    ``table_rtol`` of it plus ``table_atol sigma`` below (its interpolation; measured at
    d = 64 and 3072: 7e-4 below at p = 0.5006, 4e-8 from p = 0.51 on, and 0 for p within
    1.3e-7 of 1/2, where Cohen's radius is below 3.3e-7 sigma).
    """
    name = "framework-integral"
    title = "Corollary 1 through the framework's integral (k = 0, no closed form)"
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
        want = np.asarray(inputs.certifier(cohen).radius(from_spec(gaussians[noise_name]), p))
        rel = np.abs(got - want) / np.maximum(want, 1e-300)
        integral_ok = np.abs(got - want) <= rtol * want + atol * sigma
        i = int(np.argmax(np.where(integral_ok, 0.0, 1.0) + rel / (1.0 + rel)))  # a miss first
        tabled = sigma * np.asarray(functional_l2.radius_table(0, dim)(p), dtype=np.float64)
        # signed (above Cohen is unsound), relative where the radius is not tiny
        gap = (tabled - want) / np.maximum(want, 1e-3 * sigma)
        j = int(np.argmax(np.abs(gap)))
        worst = max(worst, float(rel.max()))
        compared += len(p)
        label = f"{model} | {noise_name}"
        table_ok = bool(
            (
                (tabled - want <= above_rtol * want)
                & (want - tabled <= table_rtol * want + table_atol * sigma)
            ).all()
        )
        if integral_ok.all() and table_ok:
            details.append(
                f"{label}: {len(p)} p_lower values, max relative diff {rel[i]:.2g} (integral), "
                f"{gap[j]:+.2g} (table, relative to max(R, 0.001 sigma))"
            )
        else:
            failed = True
            for key, _ in out[
                (out["certifier"] == functional) & (out["noise"] == noise_name)
                & (out["model"] == model)
            ].groupby(GROUP, sort=True):  # fmt: skip
                affected.add(board_row(key))
            if not integral_ok.all():
                details.append(
                    f"{label}: at p_lower={p[i]:.8f} the integral gives {got[i]:.8g}, "
                    f"Cohen {want[i]:.8g} (relative diff {rel[i]:.2g}; allowed: {rtol:g} + "
                    f"{atol:g} sigma)"
                )
            if not table_ok:
                details.append(
                    f"{label}: at p_lower={p[j]:.8f} the table gives {tabled[j]:.8g}, "
                    f"Cohen {want[j]:.8g} (relative diff {gap[j]:+.2g}; allowed: {above_rtol:g} "
                    f"above, {table_rtol:g} + {table_atol:g} sigma below)"
                )
    status = FAIL if failed else PASS
    summary = (
        f"{compared} stored p_lower values, largest relative difference of the integral "
        f"{worst:.2g} (within {rtol:g} + {atol:g} sigma; the table at most {above_rtol:g} "
        f"above, {table_rtol:g} + {table_atol:g} sigma below)"
    )
    return CheckResult(name, title, status, summary, details, worst, affected)


@register_check("framework-integral")
class FrameworkIntegral(SanityCheck):
    order = 20
    cost = 2.0

    def run(self, inputs: SanityInputs, context: SanityContext) -> CheckResult:
        return check_framework_integral(
            inputs, functional=context.functional, cohen=context.reference
        )
