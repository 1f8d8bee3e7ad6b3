"""Honest n: whether the store holds every image the run set out to sample and certify,
and whether the alphas reported are the config's. The report states any gap at the top
of every output."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd


def sampling_warnings(
    manifest: Mapping[str, Any], counts: pd.DataFrame, outcomes: pd.DataFrame
) -> list[str]:
    """One line per gap: images not sampled (per model), images sampled but not
    certified, and alphas other than the config's."""
    out: list[str] = []
    index_set = manifest.get("index_set")
    expected = len(index_set) if index_set is not None else None
    models = [
        name
        for name, entry in (manifest.get("models") or {}).items()
        if not (isinstance(entry, dict) and entry.get("smoothing") is False)
    ]
    if expected is not None:
        per_model = {}
        for model in models:
            sub = counts[counts["model"] == model] if not counts.empty else counts
            if sub.empty:
                per_model[model] = 0
                continue
            noises = sub["noise"].nunique()
            per_image = sub.groupby("image")["noise"].nunique()
            per_model[model] = int((per_image == noises).sum())
        short = {m: k for m, k in per_model.items() if k < expected}
        if short:
            lowest = min(short.values())
            detail = "; ".join(f"{m}: {k}" for m, k in short.items())
            out.append(
                f"sampling incomplete: {lowest} of {expected} images ({detail}); "
                "`smoothbench run` with the same config and store resumes"
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
        other = sorted(set(map(float, outcomes["alpha"].unique())) - config_alphas)
        if other:
            out.append(
                f"alpha = {', '.join(f'{a:g}' for a in other)} certified after the run (the "
                f"config asked for {', '.join(f'{a:g}' for a in sorted(config_alphas))}); "
                "each alpha has its own tables"
            )
    return out
