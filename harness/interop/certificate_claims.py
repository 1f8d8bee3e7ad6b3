"""What a file of certificates made elsewhere can claim, from its certifier and noise:
the largest radius that certifier issues for that noise at any number of draws, and the
confidence its certificates spend beyond alpha. ``smoothbench import`` refuses a radius
above the first and records the second where no export states it."""

from __future__ import annotations

from typing import Any

import numpy as np

import certifiers
from certifiers.base import Certifier
from harness.noise import Noise, rebuild_noise

#: Relative slack over a certifier's largest radius: the float rounding of the radius
#: formula between the machine that certified and this one. Certifiers whose radius
#: rests on a Monte Carlo table (whose options may differ) are not bounded here at all.
REACH_SLACK = 1e-9


def _certifier_for(
    certifier: str, spec: dict[str, Any] | None, norm: str
) -> tuple[Certifier, Noise] | None:
    """The registered count certifier named ``certifier`` (default options) and the noise
    of ``spec``, where it certifies that noise against ``norm``; else None."""
    noise = rebuild_noise(spec)
    if noise is None or certifier not in certifiers.available():
        return None
    try:
        c = certifiers.get(certifier)
        if getattr(c, "deterministic", False) or not c.supports(noise, norm):
            return None
    except (ValueError, TypeError, NotImplementedError):
        return None
    return c, noise


def largest_radius(certifier: str, spec: dict[str, Any] | None, norm: str) -> float | None:
    """The largest radius ``certifier`` (with its default options) issues for the noise
    of ``spec`` against ``norm`` at any number of draws: its radius at the largest
    ``p_lower`` below 1 (``p_lower = alpha^(1/n) < 1`` for every finite ``n``; radii grow
    with ``p_lower``). None where that is not computed here: the certifier or the
    noise's family is not registered, the certifier does not certify it or fails, or it
    certifies from a Monte Carlo table (it spends confidence beyond alpha: building the
    table can take minutes at CIFAR-10's dimension, and other options give other
    tables)."""
    found = _certifier_for(certifier, spec, norm)
    if found is None:
        return None
    c, noise = found
    try:
        if c.confidence_spent(noise, norm) > 0:
            return None
        top = float(np.asarray(c.radius(noise, np.nextafter(1.0, 0.0), norm)).reshape(-1)[0])
    except (ArithmeticError, ValueError, TypeError, NotImplementedError):
        return None
    return top if np.isfinite(top) else None


def declared_spent(certifier: str, spec: dict[str, Any] | None, norm: str) -> float:
    """The confidence ``certifier`` (default options) spends beyond alpha on the noise
    of ``spec`` against ``norm`` (``Certifier.confidence_spent``: its Monte Carlo
    table's); 0 where the certifier or the noise is not known here."""
    found = _certifier_for(certifier, spec, norm)
    if found is None:
        return 0.0
    c, noise = found
    try:
        return float(c.confidence_spent(noise, norm))
    except (ArithmeticError, ValueError, TypeError, NotImplementedError):
        return 0.0
