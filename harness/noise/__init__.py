"""Smoothing distributions, each a deterministic transform of base normals G ~ N(0, I_d).

One family a module; importing this package registers them all for ``from_spec``.
"""

from harness.noise.base import Noise, from_spec, noise_class, noise_families, register_noise
from harness.noise.gaussian import Gaussian

__all__ = [
    "Gaussian",
    "Noise",
    "from_spec",
    "noise_class",
    "noise_families",
    "register_noise",
]
