"""The reach of a leaderboard row (``Row.reach``): the largest radius its certifier can
give with the row's Monte Carlo draws, whatever the model.

With ``n`` estimation draws the one-sided ``(1 - alpha)`` Clopper-Pearson bound on
``p_A`` is largest when all ``n`` fall on the top class: ``Beta.ppf(alpha, n, 1) =
alpha^(1/n)`` (Cohen et al. 2019, CERTIFY). Every certifier's radius is non-decreasing in
``p_A`` (the conformance kit checks it), so no image of the row is certified beyond
``radius(noise, alpha^(1/n) - TV)``, ``TV`` the law distance certification subtracted
from every ``p_lower`` (the manifest's ``law_distances``; 0 unless the noise's transform
is tabulated). For Cohen's Gaussian radius at ``n = 100,000`` and ``alpha = 0.001`` that
is ``sigma Phi^{-1}(0.999931) = 3.81 sigma``; at the default's ``n = 10,000``,
``3.20 sigma``.

A row that certifies no image at a radius beyond its reach could not have, whatever its
noise or certifier: with more draws it might. A gap at such a radius says that one row
drew too few samples, which the headline states beside it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import certifiers
from certifiers.bounds import check_law_distance, clopper_pearson_lower
from harness.noise import from_spec

#: Marks a value at a radius beyond its row's reach, in every table of every format.
MARK = "‡"


def run_draws(manifest: Mapping[str, Any]) -> int | None:
    """The estimation draws per image and noise of the run a store's ``manifest``
    describes (its ``n``); ``None`` where it names none (e.g. a store of imports only)."""
    n = manifest.get("n")
    return int(n) if isinstance(n, int) and not isinstance(n, bool) and n > 0 else None


def ceiling(n: int, alpha: float) -> float:
    """The largest ``p_A`` that ``n`` estimation draws can show at level ``alpha``:
    the Clopper-Pearson lower bound with all ``n`` on the top class, ``alpha^(1/n)``."""
    return float(clopper_pearson_lower(n, n, alpha))


def reach(
    certifier_names: Sequence[str],
    norm: str,
    alpha: float,
    n: int | None,
    spec: Mapping[str, Any] | None,
    options: Mapping[str, Mapping[str, Any]] | None = None,
    law_distance: float | None = None,
) -> float | None:
    """The largest radius the certifiers ``certifier_names`` (built with their stored
    ``options``) can give on the noise of ``spec`` against ``norm`` with ``n`` estimation
    draws at ``alpha``: the largest of their ``radius(noise, ceiling(n, alpha) - TV)``.
    ``law_distance`` is the ``TV`` certification subtracted (the manifest's record for the
    noise); without one, the noise's own ``law_distance()``. ``None`` where the reach is
    not known: no ``n`` or noise spec, a certifier or noise family this checkout lacks, or
    a certifier that fails or gives NaN there."""
    if not n or spec is None:
        return None
    try:
        noise = from_spec(dict(spec))
    except ValueError:
        return None
    try:  # certification lowers every p_lower by the law distance, the ceiling too
        distance = check_law_distance(
            noise.law_distance() if law_distance is None else law_distance
        )
    except Exception:  # a plugin's approximation that states no bound, a bad record
        return None
    p = max(ceiling(int(n), alpha) - distance, 0.0)
    reaches = []
    for name in certifier_names:
        try:
            certifier = certifiers.get(name, **dict((options or {}).get(name, {})))
        except ValueError:
            return None
        try:
            if not certifier.supports(noise, norm):
                return None
            reaches.append(float(certifier.radius(noise, p, norm=norm)))
        except Exception:  # a broken plugin costs its note, never the report
            return None
    most = max(reaches, default=math.nan)
    return most if not math.isnan(most) else None


def unreached_grid_warning(
    title: str, norm: str, radii: Sequence[float], reaches: Sequence[float | None]
) -> str | None:
    """A warning where every radius of a leaderboard's grid above 0 lies beyond the reach
    of every row (``reaches``; a row with none, a deterministic one, reaches any radius),
    so that each such column reads 0 for want of draws (a grid made for another norm,
    say: l2 and l-inf radii differ by about sqrt(d)); else ``None``."""
    above = [r for r in radii if r > 0]
    if not above or not reaches or any(r is None for r in reaches):
        return None
    farthest = max(float(r) for r in reaches)
    if min(above) <= farthest:
        return None
    return (
        f"{title}: every radius of its grid above 0 ({', '.join(f'{r:g}' for r in above)}) "
        f"lies beyond the reach of every row (at most {farthest:.4g}), where no row can "
        f"certify an image with its draws; give {norm} a grid of its own (`--radii "
        f"{norm}=R,R,...`, or [report].radii.{norm} in the config)"
    )
