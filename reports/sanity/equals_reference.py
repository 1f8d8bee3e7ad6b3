"""The shared body of the Corollary 1/2 and hockey-stick checks: a certifier's radius
equals the reference certifier's (Cohen's) at the same p_lower on every Gaussian row.

Stored certificates are compared with the reference's radius at the stored ``p_lower``.
When the store holds none but the certifier is registered here, radii are recomputed
from the stored counts (no leaderboard row is then affected, but the check still passes
or fails).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

import certifiers
from harness.noise import rebuild_noise
from reports.sanity.base import (
    FAIL,
    GROUP,
    PASS,
    SKIPPED,
    BoardRow,
    CheckResult,
    SanityInputs,
    as_gaussian,
    board_row,
    p_lower_from_counts,
    registered,
    within,
)


def check_equals_cohen(
    inputs: SanityInputs,
    *,
    name: str,
    title: str,
    certifier: str,
    norms: Sequence[str] | None,
    cohen: str = "cohen",
    gg_family: str = "generalized_gaussian",
    rtol: float = 1e-6,
    atol: float = 1e-8,
) -> CheckResult:
    """``certifier``'s radius equals Cohen's at the same p_lower on every Gaussian row.

    Tolerance: ``|R - R_cohen| <= atol + rtol * R_cohen`` (numerical certifiers integrate
    or root-find; the largest difference is printed whatever it is). The hockey-stick
    certifier's root finding, the loosest, is measured within 5.3e-10 sigma of Cohen (at
    most 7e-7 relative, where the radius is below 1e-5 sigma) for sigma up to 1,
    d = 64 to 150,528 and p from 1/2 + 1e-9 to 1 - 1e-7.
    """
    out = inputs.outcomes
    gaussians = {nz: g for nz, spec in inputs.specs.items() if (g := as_gaussian(spec, gg_family))}
    if not registered(cohen):
        return CheckResult(name, title, SKIPPED, f"reference certifier {cohen!r} not registered")
    if not gaussians:
        return CheckResult(name, title, SKIPPED, "the store holds no Gaussian noise")
    ref = inputs.certifier(cohen)
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
            ok = within(got, want, rtol, atol)
            label = f"{key[3]} | {key[4]} | {key[1]} | alpha={key[2]:g}"
            if ok.all():
                details.append(f"{label}: {len(g)} images, max |diff| = {diff[i]:.3g}")
            else:
                affected.add(board_row(key))
                img = int(g["image"].iloc[i])
                details.append(
                    f"{label}: {int((~ok).sum())} of {len(g)} images differ; worst image {img}:"
                    f" p_lower={g['p_lower'].iloc[i]:.6f}, {certifier}={got[i]:.6g},"
                    f" {cohen}={want[i]:.6g}"
                )
        source = "stored certificates"
    elif registered(certifier):
        c = inputs.certifier(certifier)
        alphas = sorted(out["alpha"].unique()) if not out.empty else [0.001]
        norm_list = list(norms) if norms is not None else list(certifiers.NORMS)
        bad = 0
        for (model, noise_name), _ in inputs.counts.groupby(["model", "noise"], sort=True):
            if noise_name not in gaussians:
                continue
            noise_obj = rebuild_noise(inputs.specs[noise_name])
            if noise_obj is None:
                continue
            for alpha in alphas:
                _, _, _, p = p_lower_from_counts(
                    inputs.counts,
                    model,
                    noise_name,
                    alpha,
                    inputs.law_distance(noise_name, noise_obj),
                )
                for norm in norm_list:
                    if not (
                        c.supports(noise_obj, norm) and ref.supports(gaussians[noise_name], norm)
                    ):
                        continue
                    # once per distinct p_lower: images with the same counts share it
                    values, at = np.unique(p, return_inverse=True)
                    got = np.asarray(c.radius(noise_obj, values, norm=norm))[at]
                    want = np.asarray(ref.radius(gaussians[noise_name], values, norm=norm))[at]
                    diff = np.abs(got - want)
                    compared += len(p)
                    max_diff = max(max_diff, float(diff.max(initial=0.0)))
                    ok = within(got, want, rtol, atol)
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
