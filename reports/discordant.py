"""Two rows of a store compared image by image: the McNemar test at a radius and the
discordant images (certified by one row only), with both rows' p_A and radius.

Any row a leaderboard shows can be named: a Monte Carlo row (kind ``smoothing``), an
imported one (``imported``: no p_A) or a deterministic one (``deterministic``: noise
``none``, no p_A). Where a run's row and an imported row share model, noise and
certifier, the kind chooses between them."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd

from harness.noise.written import split_noise_text
from harness.store import Store
from reports import stats
from reports.reach import reach, run_draws
from reports.tidy import leaderboard_keys, load_leaderboard_outcomes
from smoothbench.names import choices, did_you_mean
from smoothbench.p_values import fmt_p

Selector = tuple[str, str, str]  # model, noise (name or a unique part of one), certifier
KINDS = ("smoothing", "imported", "deterministic")


def _same_value(given: str, stored: str) -> bool:
    try:
        return math.isclose(float(given), float(stored), rel_tol=1e-9)
    except ValueError:
        return given == stored


def _holds_params(stored: str, wanted: tuple[str, dict[str, str]] | None) -> bool:
    """Whether the stored noise name has the family of ``wanted`` and each of its
    parameters, with equal values (``k=16`` holds ``k=16.0``)."""
    have = split_noise_text(stored)
    if wanted is None or have is None or have[0] != wanted[0]:
        return False
    return all(k in have[1] and _same_value(v, have[1][k]) for k, v in wanted[1].items())


def _pick(
    outcomes: pd.DataFrame,
    sel: Selector,
    norm: str,
    alpha: float,
    kind: str | None = None,
    known: set[str] | None = None,
    elsewhere: dict[str, list[str]] | None = None,
) -> pd.DataFrame:
    """The row ``sel`` names in ``outcomes``; ``known``: the models of the whole store at
    ``norm`` and ``alpha``, when ``outcomes`` holds only some (for the message of a model
    it does not hold); ``elsewhere``: the norms and alphas of each model's certificates
    (for the message of a stored model with none at ``norm`` and ``alpha``)."""
    model, noise, cert = sel
    g = outcomes[(outcomes["norm"] == norm) & (outcomes["alpha"] == alpha)]
    if model not in set(g["model"]):
        if elsewhere and model in elsewhere:
            raise ValueError(
                f"model {model!r} has no certificates against {norm} at alpha {alpha:g}; "
                f"its certificates are against {', '.join(elsewhere[model])}"
            )
        stored = set(g["model"]) if known is None else known
        raise ValueError(f"unknown model {model!r}; {choices(model, stored, 'stored')}")
    g = g[g["model"] == model]
    noises = sorted(set(g["noise"]))
    wanted = split_noise_text(noise)
    match = (
        [n for n in noises if n == noise]
        or [n for n in noises if n.startswith(noise + "(")]
        or [n for n in noises if _holds_params(n, wanted)]
        or [n for n in noises if noise in n]
    )
    if not match:
        families = {split[0] for n in noises if (split := split_noise_text(n)) is not None}
        raise ValueError(
            f"noise {noise!r} is none of model {model!r}'s stored noises ({noises}); "
            f"{did_you_mean(noise, [*noises, *families])}give a stored name, its family, "
            "some of its parameters (gaussian(sigma=0.25)), or a part of it that only one "
            "name holds"
        )
    if len(match) > 1:
        raise ValueError(
            f"noise {noise!r} matches {len(match)} stored noises of model {model!r} "
            f"({match}); give more of its name"
        )
    g = g[g["noise"] == match[0]]
    rows = g[g["certifier"] == cert]
    if rows.empty:
        stored = choices(cert, set(g["certifier"]), "that noise's certifiers")
        raise ValueError(
            f"no certificates for model {model!r}, noise {match[0]}, certifier {cert!r}, "
            f"{norm}, alpha {alpha:g}; {stored}"
        )
    kinds = sorted(set(rows["kind"]))
    if kind is not None:
        if kind not in kinds:
            raise ValueError(
                f"model {model!r}, noise {match[0]}, certifier {cert!r} has no {kind} row; "
                f"its rows: {', '.join(kinds)}"
            )
        rows = rows[rows["kind"] == kind]
    elif len(kinds) > 1:
        raise ValueError(
            f"model {model!r}, noise {match[0]}, certifier {cert!r} names {len(kinds)} rows "
            f"({', '.join(kinds)}): choose one with --first-kind or --second-kind"
        )
    return rows.set_index("image").sort_index()


def compare_rows_by_image(
    store_path: str | Path,
    first: Selector,
    second: Selector,
    norm: str,
    radius: float,
    alpha: float | None = None,
    kinds: tuple[str | None, str | None] = (None, None),
) -> tuple[pd.DataFrame, str]:
    """``(discordant images, summary line)``. ``kinds``: the kind of each row (one of
    ``KINDS``), needed only where a selector names rows of several kinds."""
    if not (0 <= radius < math.inf):
        raise ValueError(f"--radius must be a finite number >= 0, got {radius}")
    for kind in kinds:
        if kind is not None and kind not in KINDS:
            raise ValueError(f"unknown row kind {kind!r}; one of {', '.join(KINDS)}")
    with Store.open_existing(store_path, readonly=True) as store:
        keys = leaderboard_keys(store)
        alphas = sorted(set(keys["alpha"]))
        if not alphas:
            raise ValueError(f"{store_path} holds no certificates to compare")
        if alpha is None:
            if len(alphas) != 1:
                raise ValueError(
                    f"the store holds several alphas {alphas}; choose one with --alpha"
                )
            alpha = alphas[0]
        if float(alpha) not in alphas:
            raise ValueError(f"no certificates at alpha = {alpha:g}; stored: {alphas}")
        norms = sorted(set(keys["norm"]))
        if norm not in norms:
            raise ValueError(f"no certificates against {norm}; stored: {norms}")
        # the two rows' models only: a store of a million certificates is not read whole
        outcomes = load_leaderboard_outcomes(store, {first[0], second[0]}, norm)
        manifest = store.manifest()
        specs = store.noise_specs()
    here = keys[(keys["norm"] == norm) & (keys["alpha"] == alpha)]
    known = set(here["model"])
    elsewhere: dict[str, list[str]] = {}
    for m, nm, a_ in sorted(zip(keys["model"], keys["norm"], keys["alpha"], strict=True)):
        elsewhere.setdefault(m, []).append(f"{nm} at alpha {a_:g}")
    a = _pick(outcomes, first, norm, alpha, kinds[0], known, elsewhere)
    b = _pick(outcomes, second, norm, alpha, kinds[1], known, elsewhere)
    images = a.index.intersection(b.index)
    if images.empty:
        raise ValueError(
            f"the two rows share no image (the first holds {len(a)}, the second {len(b)}): "
            "a paired comparison needs the same images"
        )
    only = len(a) + len(b) - 2 * len(images)
    held = (
        f" (the first row holds {len(a)}, the second {len(b)}: the {only} images of one row "
        "only are left out, and the counts below are of the shared ones)"
        if only
        else ""
    )
    a, b = a.loc[images], b.loc[images]
    x = (a["correct"] & (a["radius"] >= radius)).to_numpy()
    y = (b["correct"] & (b["radius"] >= radius)).to_numpy()
    mc = stats.mcnemar((x, y), mid_p=True)
    summary = (
        f"{len(images)} shared images{held}; certified at r = {radius:g}: first {x.sum()}, second "
        f"{y.sum()}; only the first {mc.n10}, only the second {mc.n01}; McNemar mid-p "
        f"{fmt_p(mc.pvalue_midp)} (exact {fmt_p(mc.pvalue_exact)})"
    )
    draws = run_draws(manifest)
    options = manifest.get("certifier_options") or {}
    distances = manifest.get("law_distances") or {}
    for which, rows, sel in (("first", a, first), ("second", b, second)):
        if len(rows) and rows["kind"].iloc[0] != "smoothing":
            continue  # no draws behind it: no reach
        noise = str(rows["noise"].iloc[0]) if len(rows) else ""
        spec = specs.get(noise)
        most = reach([sel[2]], norm, float(alpha), draws, spec, options, distances.get(noise))
        if most is not None and most < radius:
            summary += (
                f"; r = {radius:g} is beyond the {which} row's reach, {most:.4g}: with "
                f"n = {draws:,} draws at alpha = {alpha:g} it certifies no image there"
            )
    idx = np.flatnonzero(x != y)
    table = pd.DataFrame(
        {
            "image": images[idx],
            "label": a["label"].to_numpy()[idx],
            "certified by": np.where(x[idx], "first", "second"),
            "p_A first": a["p_lower"].to_numpy()[idx],
            "radius first": a["radius"].to_numpy()[idx],
            "p_A second": b["p_lower"].to_numpy()[idx],
            "radius second": b["radius"].to_numpy()[idx],
        }
    )
    return table, summary
