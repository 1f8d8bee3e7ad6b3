"""Smoothing distributions, each a deterministic transform of base normals G ~ N(0, I_d).

One family a module; importing this package registers them all for ``from_spec``.
"""

from harness.noise.base import Noise, from_spec, noise_class, noise_families, register_noise
from harness.noise.gaussian import Gaussian
from harness.noise.generalized_gaussian import GeneralizedGaussian
from harness.noise.generalized_laplace import GeneralizedLaplace
from harness.noise.mixed_norm import MixedNorm

__all__ = [
    "Gaussian",
    "GeneralizedGaussian",
    "GeneralizedLaplace",
    "MixedNorm",
    "Noise",
    "from_spec",
    "noise_class",
    "noise_families",
    "register_noise",
]
