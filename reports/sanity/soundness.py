"""``soundness``: no stored certificate exceeds a bound known to be valid for its (noise,
norm). Plugins are held to it like the built-ins, from their stored rows alone.

1. **Gaussian optimum.** On Gaussian noise the Neyman-Pearson optimum is known in
   closed form (Cohen et al. 2019): ``sigma Phi^{-1}(p_A)`` against l2 and l1 (the worst
   l1 shift is along an axis) and ``sigma Phi^{-1}(p_A) / sqrt(d)`` against l-inf (the
   worst shift is a vertex of the cube); every stored radius on a Gaussian noise must be
   at most that, at its own p_A, up to float rounding.
2. **Monte Carlo Neyman-Pearson at the data's dimension**, for every certifier on every
   (noise, norm) pair: at stored certificates (those at the nine quantiles 0, 1/8, ...,
   1 of each row's p_A, so a radius too large on part of the range shows) the shift of
   the certified size must leave the worst-case top-class probability at 1/2 or above
   (``certifiers.testing.neyman_pearson_lower``, in the dimension-reduced form the noise
   offers: two numbers per draw for a spherical law, one coordinate for an axis shift of
   i.i.d. coordinates; full-dimensional otherwise), from ``SAMPLES`` draws, or as many
   as ``BUDGET`` values allow but at least ``MIN_SAMPLES``; a shift whose
   ``MIN_SAMPLES`` draws would exceed ``MAX_BUDGET`` values is listed as not checked, and
   one beyond ``BUDGET`` is tried at the smallest, the median and the largest p_A only.
   Gaussian rows take part 1 only, which is exact. A shift whose estimate lies more than
   ``4 se + 0.002`` below 1/2 fails (``se``: the standard error of the estimate, its cut
   estimated too). At 200,000 draws it is about 0.0002 at p_A = 0.55 and 0.002 at
   p_A = 0.8 (Laplace, d = 64, an axis shift): a Laplace l1 radius 3% too large leaves an
   estimate of about 0.487 at p_A = 0.8, and fails; one 2% too large (0.491) lies at the
   edge of what the check can tell there. From p_A = 0.99 on, where real runs put most
   p_A (0.99993 for an image whose 100,000 draws agree, alpha = 0.001) and that estimate
   rests on the few draws beyond its cut (there it is used only while 1,000 lie beyond
   it), the importance-sampled tail form decides as well
   (``certifiers.testing.neyman_pearson_tail``: the unshifted mass the worst set must
   leave out, bounded above with probability 1 - 10^-5): a Laplace l1 radius 1% too
   large fails it at p_A = 0.9999.

3. **Abstention.** At ``p_A <= 1/2`` the smoothed classifier abstains: a positive radius
   stored there is unsound whatever the noise (a plugin writing rows itself, an imported
   or altered store could hold one).
4. **Values.** A radius that is NaN or negative, or infinite at ``p_A < 1``, and a
   confidence spent beyond alpha outside [0, 1), are no certificate whatever the noise
   (``certify`` refuses them; a store written before it did, or altered, can hold them).
5. **Counts.** Parts 1 and 2 take each row's ``p_A`` as stored: it must come from its
   draws. A row's ``p_A`` must be at most the Clopper-Pearson bound of the stored counts
   at its alpha less the law distance certification recorded for the noise (a store
   certified before it recorded them did not subtract it), its prediction the one
   ``certify`` makes from the counts (their top class where that bound is above 1/2) or
   an abstention (which claims nothing), and ``correct`` that prediction against the
   label; an altered store whose ``p_A`` the draws cannot give (above ``alpha^(1/n)``,
   say) fails here, whatever its radius. A row some of whose images have no counts
   stored, or whose noise's law distance record is no distance, is not checked (nothing
   shows its ``p_A`` comes from draws): the report marks it UNCHECKED.

A certifier that fails any part is marked in every row of the report and never enters
a headline. A row that could not be checked here at all (its noise family is not
registered in this environment, or is a plugin whose source differs from the one that
sampled the counts, so that the law here may be another) is not taken as sound: the
check is ``incomplete`` rather than ``pass``, lists the row in ``unchecked`` with the
reason, and the report marks it UNCHECKED and keeps it out of the headlines too. Shifts
whose check would cost more than the budget (at ImageNet size, for several families) are
listed as not fully checked, as the necessary check it is; they do not hold a row out.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import numpy as np
import pandas as pd
from scipy.special import ndtri

from certifiers.testing import neyman_pearson_failure, shift_directions
from harness.noise import Noise, SphericalNoise, rebuild_noise
from harness.noise.registry import source_change
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
    why_no_noise,
)
from reports.sanity.registry import register_check

#: Monte Carlo draws per Neyman-Pearson estimate: SAMPLES, fewer where that would cost
#: more than BUDGET values (draws x values per draw), never fewer than MIN_SAMPLES; a
#: shift whose MIN_SAMPLES draws cost more than MAX_BUDGET values is not checked.
SAMPLES = 200_000
MIN_SAMPLES = 10_000
BUDGET = 1 << 21
MAX_BUDGET = 1 << 25
#: The quantiles of a row's p_A whose certificates are checked; FEW_QUANTILES only for a
#: shift that costs more than BUDGET values (a full-dimensional one at CIFAR-10 size).
QUANTILES = np.linspace(0.0, 1.0, 9)
FEW_QUANTILES = np.array([0.0, 0.5, 1.0])
_RTOL, _ATOL = 1e-9, 1e-12


def gaussian_optimum(noise: Noise, p: np.ndarray, norm: str) -> np.ndarray | None:
    """The Neyman-Pearson radius of a Gaussian noise, or None for another law."""
    if noise.family != "gaussian":
        return None
    r2 = noise.sigma * ndtri(np.asarray(p, dtype=np.float64))
    return r2 / math.sqrt(noise.dim) if norm == "linf" else r2


def _directions(noise: Noise, norm: str) -> list[tuple[str, np.ndarray]]:
    dirs = shift_directions(noise, norm, np.random.default_rng(0))
    if isinstance(noise, SphericalNoise):
        return dirs
    return [d for d in dirs if d[0] in ("axis", "diagonal")]


@dataclass
class _Finding:
    """What one leaderboard row's certificates showed: the checks passed, the failures
    (a line each; the relative excess over a Gaussian optimum), and what could not be
    checked."""

    key: tuple
    checked: int = 0
    failures: list[str] = field(default_factory=list)
    worst: float = 0.0
    unchecked: set[str] = field(default_factory=set)
    #: why nothing about the row can be checked here (its noise family is not registered
    #: in this environment); a shift beyond the budget is only ``unchecked``
    unverifiable: str | None = None


def _check_noise(inputs: SanityInputs, noise_name: str) -> list[_Finding]:
    """Every row of one noise, in the report's row order. The noise's rows share its
    Monte Carlo samplers and estimates, so a noise is the unit of parallel work."""
    out = inputs.outcomes
    rows = out[out["noise"] == noise_name]
    spec = inputs.specs.get(noise_name)
    noise = rebuild_noise(spec)
    # no law here, or not the one that sampled the counts
    unverifiable = (
        why_no_noise(noise_name, spec)
        if noise is None
        else source_change(noise.family, inputs.noise_sources)
    )
    cache: dict[tuple, str | None] = {}  # why a shift fails, or None
    samplers: dict[int, object] = {}
    drawn: dict[tuple[str, float], tuple[np.ndarray, ...]] = {}  # what the counts give
    findings = []
    for key, g in rows.groupby(GROUP, sort=True):
        found = _Finding(key)
        findings.append(found)
        _check_values(found, noise_name, g)
        no_counts = _check_counts(found, inputs, noise_name, g, drawn)
        why = unverifiable if unverifiable is not None else no_counts
        if why is not None:
            found.unverifiable = why
            found.unchecked.add(why)
            continue
        try:
            _check_rows(found, noise, noise_name, g, cache, samplers)
        except Exception as err:  # a plugin's noise (its log_prob, say) failing in the check
            found.unverifiable = f"the check could not run: {type(err).__name__}: {err}"
            found.unchecked.add(found.unverifiable)
    return findings


def _check_values(found: _Finding, noise_name: str, g: pd.DataFrame) -> None:
    """Values that are no certificate whatever the noise (into ``found``): a radius that
    is NaN or negative, one infinite at ``p_A < 1`` (only ``p_A = 1`` certifies every
    radius), a confidence spent beyond alpha outside [0, 1). ``certify`` refuses them;
    a store written before it did, or altered, can hold them."""
    where = f"{found.key[3]} | {noise_name} | {found.key[1]}"
    radius, p, spent = g["radius"], g["p_lower"], g["confidence_spent"]
    for bad, what in (
        (~(radius >= 0), "radii that are negative or NaN"),
        (np.isinf(radius) & (p < 1), "infinite radii at p_A < 1"),
        (~((spent >= 0) & (spent < 1)), "confidences spent beyond alpha outside [0, 1)"),
    ):
        if bad.any():
            first = g[bad].iloc[0]
            found.failures.append(
                f"{where}: {int(bad.sum())} {what}, which are no certificate; at p_A = "
                f"{first['p_lower']:.6f}: radius {first['radius']:.6g}, confidence spent "
                f"{first['confidence_spent']:.6g}"
            )


def _recorded_distance(inputs: SanityInputs, noise_name: str) -> float | None:
    """The law distance certification recorded for the noise, 0 where none is recorded
    (a store certified before any was subtracted); None where the record is no distance
    in [0, 1), which ``certify`` never writes."""
    records = inputs.law_distances
    if not isinstance(records, Mapping):
        return None
    try:
        distance = float(records.get(noise_name, 0.0))
    except (TypeError, ValueError):
        return None
    return distance if 0.0 <= distance < 1.0 else None


def _check_counts(
    found: _Finding,
    inputs: SanityInputs,
    noise_name: str,
    g: pd.DataFrame,
    drawn: dict[tuple[str, float], tuple[np.ndarray, ...]],
) -> str | None:
    """The row's ``p_A``, prediction and correctness against its stored counts (into
    ``found``); why it cannot be checked where some of its images have no counts. The
    bound is less the law distance certification recorded for the noise (none for a
    store certified before it recorded one: its ``p_A`` were not lowered by it)."""
    model, alpha = found.key[3], float(found.key[2])
    distance = _recorded_distance(inputs, noise_name)
    if distance is None:
        records = inputs.law_distances
        record = records.get(noise_name) if isinstance(records, Mapping) else records
        return f"the store's law distance record for the noise is no distance: {record!r}"
    if (model, alpha) not in drawn:
        drawn[(model, alpha)] = p_lower_from_counts(
            inputs.counts, model, noise_name, alpha, distance
        )
    images, labels, top, bound = drawn[(model, alpha)]
    at = pd.Series(np.arange(len(images)), index=images)
    known = g["image"].isin(images).to_numpy()
    if not known.all():
        return f"no counts stored for {int((~known).sum())} of its images: nothing shows its p_A"
    pos = at.loc[g["image"]].to_numpy()
    p = g["p_lower"].to_numpy(np.float64)
    where = f"{model} | {noise_name} | {found.key[1]}"
    above = ~(p <= bound[pos] + _ATOL + _RTOL * np.abs(bound[pos]))
    if above.any():
        i = int(np.argmax(np.where(above, p - bound[pos], -np.inf)))
        found.failures.append(
            f"{where}: {int(above.sum())} p_A above the Clopper-Pearson bound of the stored "
            f"counts, which the draws cannot give; at image {int(g['image'].iloc[i])}: "
            f"{p[i]:.6f} > {bound[pos][i]:.6f}"
        )
    # certify's prediction from the counts (-1 where it abstains), or an abstention, which
    # claims nothing
    prediction = g["prediction"].to_numpy()
    stated = (prediction != top[pos]) & (prediction != -1)
    right = g["correct"].to_numpy(bool) != (prediction == labels[pos])
    for bad, what in ((stated, "predictions other than the counts' (nor abstentions)"),
                      (right, "correctness flags other than the prediction against the "
                              "label")):  # fmt: skip
        if bad.any():
            found.failures.append(
                f"{where}: {int(bad.sum())} {what}; at image {int(g['image'][bad].iloc[0])}"
            )
    return None


def _check_rows(
    found: _Finding,
    noise: Noise,
    noise_name: str,
    g: pd.DataFrame,
    cache: dict[tuple, str | None],
    samplers: dict[int, object],
) -> None:
    """One row's certificates: none positive at p_A <= 1/2; above it, against the
    Gaussian optimum where one exists, else against Monte Carlo Neyman-Pearson bounds at
    a few of its p_A (into ``found``)."""
    key = found.key
    norm = key[1]
    abstaining = g[(g["p_lower"] <= 0.5) & (g["radius"] > 0)]
    if not abstaining.empty:
        worst = abstaining.loc[abstaining["radius"].idxmax()]
        found.failures.append(
            f"{key[3]} | {noise_name} | {norm}: {len(abstaining)} positive radii at "
            f"p_A <= 1/2, where the smoothed classifier abstains and no radius is valid; "
            f"at p_A = {worst['p_lower']:.6f}: {worst['radius']:.6g} > 0"
        )
    live = g[g["p_lower"] > 0.5]
    if live.empty:
        return
    p = live["p_lower"].to_numpy(np.float64)
    r = live["radius"].to_numpy(np.float64)
    bound = gaussian_optimum(noise, p, norm)
    if bound is not None:
        excess = r - bound
        over = excess > _ATOL + _RTOL * np.abs(bound)
        if over.any():
            i = int(np.argmax(excess))
            found.worst = float(excess[i] / max(bound[i], 1e-300))
            found.failures.append(
                f"{key[3]} | {noise_name} | {norm}: {int(over.sum())} of {len(r)} radii "
                f"above the Gaussian optimum; at p_A = {p[i]:.6f}: {r[i]:.6g} > "
                f"{bound[i]:.6g}"
            )
        else:
            found.checked = 1  # the optimum is exact: no Monte Carlo check adds to it
        return
    order = np.argsort(p, kind="stable")
    picks = np.unique(order[np.round(QUANTILES * (len(p) - 1)).astype(int)])
    few = set(order[np.round(FEW_QUANTILES * (len(p) - 1)).astype(int)].tolist())
    for j in picks:
        pj, rj = float(p[j]), float(r[j])
        if not (0 < rj < math.inf):
            continue
        for label, unit in _directions(noise, norm):
            cost = max(1, noise.log_ratio_cost(unit))
            n = min(SAMPLES, max(MIN_SAMPLES, BUDGET // cost))
            if n * cost > MAX_BUDGET:
                found.unchecked.add(
                    f"{noise_name} against {norm}, {label} shift (beyond the budget)"
                )
                continue
            if n * cost > BUDGET and j not in few:
                continue
            ck = (norm, label, pj, rj)
            if ck not in cache:
                if n not in samplers:
                    samplers[n] = noise.log_ratio_sampler(n, seed=1)
                cache[ck] = neyman_pearson_failure(noise, rj * unit, pj, samplers[n], n)
            found.checked += 1
            if cache[ck] is not None:
                found.failures.append(
                    f"{key[3]} | {noise_name} | {norm}: radius {rj:.6g} at p_A = {pj:.6f}:"
                    f" a {label} shift {cache[ck]}"
                )
                break  # one line per p_A checked


def soundness_by_row(
    inputs: SanityInputs, run: Callable[[list[Callable[[], Any]]], list[Any]] | None = None
) -> dict[BoardRow, str]:
    """The gate's verdict on each row, for outputs that carry it row by row (``smoothbench
    export``): ``"unsound: ..."`` (its first failure), ``"unchecked: ..."`` (its noise
    family not registered here, images of no stored counts, or the check could not
    run), ``"not checked: ..."`` (every shift beyond the budget), ``"nothing to check:
    ..."`` (no positive radius), or ``"checked"`` (``"checked; partly: ..."`` where some
    shifts were beyond the budget).
    ``run`` runs the per-noise pieces (``reports.parallel.run_all``; in turn by default)."""
    out = inputs.outcomes
    if out.empty:
        return {}
    pieces = Soundness().parts(inputs, SanityContext())
    results = run(pieces) if run is not None else [piece() for piece in pieces]
    verdicts: dict[BoardRow, str] = {}
    for found in (f for part in results for f in part):
        beyond = "; ".join(sorted(found.unchecked))
        if found.failures:
            verdict = f"unsound: {found.failures[0]}"
        elif found.unverifiable is not None:
            verdict = f"unchecked: {found.unverifiable}"
        elif found.checked:
            verdict = f"checked; partly: not checked on {beyond}" if beyond else "checked"
        elif beyond:
            verdict = f"not checked: {beyond}"
        else:
            verdict = "nothing to check: no positive radius"
        verdicts[board_row(found.key)] = verdict
    return verdicts


@register_check("soundness")
class Soundness(SanityCheck):
    order = 5
    cost = 5.0
    title = "soundness: no radius above a valid bound (Gaussian optimum, Monte Carlo NP)"

    def run(self, inputs: SanityInputs, context: SanityContext) -> CheckResult:
        return self.combine([part() for part in self.parts(inputs, context)], inputs, context)

    def parts(self, inputs: SanityInputs, context: SanityContext) -> list[Callable[[], Any]]:
        """One piece per noise, those with the most rows to sample first (Gaussian rows
        cost next to nothing: their bound is closed-form)."""
        out = inputs.outcomes
        if out.empty:
            return []
        sizes = out.groupby("noise")["certifier"].nunique() * out.groupby("noise")["norm"].nunique()
        gaussian = {
            n for n in sizes.index if (inputs.specs.get(n) or {}).get("family") == "gaussian"
        }
        names = sorted(sizes.index, key=lambda n: (n in gaussian, -sizes[n], n))
        return [partial(_check_noise, inputs, name) for name in names]

    def combine(
        self, results: list[Any], inputs: SanityInputs, context: SanityContext
    ) -> CheckResult:
        out = inputs.outcomes
        if out.empty:
            return CheckResult(self.name, self.title, SKIPPED, "the store holds no certificates")
        failed: dict[str, list[str]] = {}
        checked: dict[str, int] = {}
        unchecked: dict[str, set[str]] = {}
        unchecked_rows: dict[BoardRow, str] = {}
        unverifiable: dict[str, set[str]] = {}
        worst = 0.0
        for found in sorted((f for part in results for f in part), key=lambda f: f.key):
            cert = found.key[5]
            if found.checked:
                checked[cert] = checked.get(cert, 0) + found.checked
            if found.unchecked:
                unchecked.setdefault(cert, set()).update(found.unchecked)
            if found.unverifiable is not None:
                unchecked_rows[board_row(found.key)] = found.unverifiable
                unverifiable.setdefault(cert, set()).add(found.unverifiable)
            if found.failures:
                failed.setdefault(cert, []).extend(found.failures)
                worst = max(worst, found.worst)
        details = []
        for cert in sorted(set(out["certifier"])):
            if cert in failed:
                details += [f"{cert}: UNSOUND: {line}" for line in failed[cert][:5]]
            elif cert in checked:
                details.append(f"{cert}: {checked[cert]} Neyman-Pearson checks passed")
            if cert in unchecked:
                details.append(f"{cert}: not checked on " + "; ".join(sorted(unchecked[cert])))
            if cert not in failed and cert not in checked and cert not in unchecked:
                details.append(f"{cert}: nothing to check (no certified image)")
        affected = {board_row(k) for k, _ in out[out["certifier"].isin(failed)].groupby(GROUP)}
        if failed:
            summary = (
                f"unsound: {', '.join(sorted(failed))}; their rows are marked and kept out "
                "of the headlines"
            )
        elif checked:
            summary = f"{sum(checked.values())} checks on {len(checked)} certifier(s) passed"
        else:
            summary = "nothing checked: no certificate with a positive radius"
        if unverifiable:
            summary += "; not checked here, so marked UNCHECKED and kept out of the headlines: "
            summary += ", ".join(
                f"{cert} ({'; '.join(sorted(why))})" for cert, why in sorted(unverifiable.items())
            )
        budget = sorted(set(unchecked) - set(unverifiable))
        if budget:  # some shifts beyond the budget: a necessary check, made where affordable
            summary += f"; not fully checked (shifts beyond the budget): {', '.join(budget)}"
        status = FAIL if failed else INCOMPLETE if unverifiable else PASS if checked else SKIPPED
        return CheckResult(
            self.name, self.title, status, summary, details, worst, affected, unchecked_rows
        )
