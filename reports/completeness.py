"""Honest n: whether the store holds every image the run set out to sample and certify,
and whether the alphas reported are the config's. The report states any gap at the top
of every output, and ``no_certificates_advice`` tells what to run when there is nothing
to report yet."""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd


def _smoothing_models(manifest: Mapping[str, Any]) -> list[str]:
    """The manifest's models that are sampled (``smoothing = false`` ones are not)."""
    return [
        name
        for name, entry in (manifest.get("models") or {}).items()
        if not (isinstance(entry, dict) and entry.get("smoothing") is False)
    ]


def sampling_gap(manifest: Mapping[str, Any], counts: pd.DataFrame) -> str | None:
    """``"20 of 100 images (model: 20)"`` when some sampled model lacks counts for some
    image of the run's index set (on every noise it has); ``None`` when sampling is
    complete or the expected number of images is not known."""
    index_set = manifest.get("index_set")
    if index_set is None:
        return None
    expected = len(index_set)
    per_model = {}
    for model in _smoothing_models(manifest):
        sub = counts[counts["model"] == model] if not counts.empty else counts
        if sub.empty:
            per_model[model] = 0
            continue
        noises = sub["noise"].nunique()
        per_image = sub.groupby("image")["noise"].nunique()
        per_model[model] = int((per_image == noises).sum())
    short = {m: k for m, k in per_model.items() if k < expected}
    if not short:
        return None
    detail = "; ".join(f"{m}: {k}" for m, k in short.items())
    return f"{min(short.values())} of {expected} images ({detail})"


def no_certificates_advice(
    store_path: str | Path, manifest: Mapping[str, Any], counts: pd.DataFrame
) -> str:
    """The error of a store with nothing to report, with the step that fixes it: run
    (no counts), resume the run (sampling incomplete) or certify (counts complete)."""
    run = f"smoothbench run CONFIG --store {store_path}"
    if counts.empty:
        return (
            f"{store_path} holds no counts and no certificates: run the benchmark first (`{run}`)"
        )
    gap = sampling_gap(manifest, counts)
    if gap is not None:
        return (
            f"{store_path} holds no certificates, and sampling is incomplete: {gap}; "
            f"resume the run with `{run}` (the run's config; it samples the rest, then "
            "certifies)"
        )
    return (
        f"{store_path} holds counts but no certificates; run "
        f"`smoothbench certify {store_path}` first"
    )


def sampling_warnings(
    manifest: Mapping[str, Any], counts: pd.DataFrame, outcomes: pd.DataFrame
) -> list[str]:
    """One line per gap: images not sampled (per model), images sampled but not
    certified, and alphas other than the config's."""
    out: list[str] = []
    gap = sampling_gap(manifest, counts)
    if gap is not None:
        out.append(
            f"sampling incomplete: {gap}; `smoothbench run` with the same config and store resumes"
        )
    if not counts.empty and not outcomes.empty:
        sampled = set(map(tuple, counts[["model", "noise", "image"]].to_numpy().tolist()))
        certified = set(map(tuple, outcomes[["model", "noise", "image"]].to_numpy().tolist()))
        missing = sampled - certified
        if missing:
            out.append(
                f"certification incomplete: {len(missing)} sampled (model, noise, image) "
                "triples have no certificate; `smoothbench certify STORE` completes them"
            )
    config_alphas = {
        float(a) for a in ((manifest.get("config") or {}).get("certify") or {}).get("alpha", [])
    }
    if config_alphas and not outcomes.empty:
        stored = {float(a) for a in outcomes["alpha"].unique() if not math.isnan(float(a))}
        other = sorted(stored - config_alphas)  # NaN: no alpha (a deterministic row)
        if other:
            out.append(
                f"alpha = {', '.join(f'{a:g}' for a in other)} certified after the run (the "
                f"config asked for {', '.join(f'{a:g}' for a in sorted(config_alphas))}); "
                "each alpha has its own tables"
            )
    return out
