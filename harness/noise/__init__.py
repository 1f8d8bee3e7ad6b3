"""Smoothing distributions, each a deterministic transform of base normals G ~ N(0, I_d).

One family a module; importing this package registers them all for ``from_spec``.
"""

from harness.noise.base import Noise, from_spec, noise_class, noise_families, register_noise
from harness.noise.exp2 import Exp2
from harness.noise.exp_inf import ExpInf
from harness.noise.gaussian import Gaussian
from harness.noise.generalized_gaussian import GeneralizedGaussian
from harness.noise.generalized_laplace import GeneralizedLaplace
from harness.noise.laplace import Laplace
from harness.noise.mixed_norm import MixedNorm
from harness.noise.pareto import Pareto
from harness.noise.pow_inf import PowInf
from harness.noise.uniform_ball import UniformBall
from harness.noise.uniform_cube import UniformCube

__all__ = [
    "Exp2",
    "ExpInf",
    "Gaussian",
    "GeneralizedGaussian",
    "GeneralizedLaplace",
    "MixedNorm",
    "Laplace",
    "Noise",
    "Pareto",
    "PowInf",
    "UniformBall",
    "UniformCube",
    "from_spec",
    "noise_class",
    "noise_families",
    "register_noise",
]
