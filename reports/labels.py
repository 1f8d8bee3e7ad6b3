"""Short, readable labels for noises and rows (the full specs go to footnotes and CSV).

``gen. Gaussian k=8`` for a noise matched to its model's training sigma (the model's
heading says which sigma0), ``Laplace b=0.177`` for one given explicitly.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from harness.noise import from_spec

FAMILY_NAMES = {
    "gaussian": "Gaussian",
    "generalized_gaussian": "gen. Gaussian",
    "mixed_norm": "mixed l2/linf",
    "generalized_laplace": "gen. Laplace",
    "laplace": "Laplace",
    "uniform_cube": "uniform cube",
    "uniform_ball": "uniform ball",
    "exp2": "Exp2",
    "exp_inf": "ExpInf",
    "pow_inf": "PowInf",
    "pareto": "Pareto",
}


def _num(v: Any, digits: int = 3) -> str:
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    if isinstance(v, float):
        return f"{v:.{digits}g}"
    return str(v)


def is_matched(spec: Mapping[str, Any], sigma0: float | None) -> bool:
    """Whether the noise has ``E||z||^2 = dim * sigma0^2`` (moment-matched to the
    Gaussian its model was trained with)."""
    if sigma0 is None:
        return False
    try:
        noise = from_spec(dict(spec))
        moment = noise.second_moment()
    except (ValueError, TypeError):
        return False
    return math.isfinite(moment) and math.isclose(moment, noise.dim * sigma0**2, rel_tol=1e-9)


def noise_label(
    spec: Mapping[str, Any] | None, sigma0: float | None = None, digits: int = 3
) -> str:
    """``family shape-params`` and, unless the noise is matched to ``sigma0``, its scale,
    numbers to ``digits`` significant digits."""
    if not spec:
        return "none"
    family = str(spec.get("family", "?"))
    params = dict(spec.get("params", {}))
    params.pop("dim", None)
    name = FAMILY_NAMES.get(family, family)
    scale_param = None
    try:
        scale_param = type(from_spec(dict(spec))).scale_param
    except (ValueError, TypeError, AttributeError):
        pass
    scale = params.pop(scale_param, None) if scale_param else None
    parts = [f"{k}={_num(v, digits)}" for k, v in sorted(params.items())]
    if scale is not None and not is_matched(spec, sigma0):
        parts.append(f"{scale_param}={_num(float(scale), digits)}")
    return f"{name} {', '.join(parts)}".strip()


def noise_labels(
    specs: Mapping[str, Mapping[str, Any] | None], sigma0: float | None = None
) -> dict[str, str]:
    """The labels of one model's noises (by name), told apart: 3 significant digits, or
    as many as two noises of the model need to read differently (17 always do)."""
    for digits in (3, 6, 17):
        labels = {name: noise_label(spec, sigma0, digits) for name, spec in specs.items()}
        if len(set(labels.values())) == len(labels):
            break
    return labels


def certifier_label(certifiers: tuple[str, ...]) -> str:
    """Certifiers merged into one row because they give the same radii: ``a = b = c``."""
    return " = ".join(certifiers)
