"""Smoothing distributions, each a deterministic transform of base normals G ~ N(0, I_d).

One family a module; importing this package registers the built-in ones for
``from_spec``. A new family is one file: a class that subclasses ``Noise`` (or one of the
coupling bases ``SphericalNoise``, ``CoordinateNoise``, ``LinfRadialNoise``), states its
scale parameter, transform, log density, second moment and marginal laws, and registers
with ``@register_noise("name")``. Third-party families register through the entry-point
group ``smoothbench.noises``; ``harness.noise.testing.check_noise`` is their
conformance kit.
"""

from harness.noise.base import Marginal, Noise
from harness.noise.coordinatewise import CoordinateNoise
from harness.noise.exp2 import Exp2
from harness.noise.exp_inf import ExpInf
from harness.noise.gaussian import Gaussian
from harness.noise.generalized_gaussian import GeneralizedGaussian
from harness.noise.generalized_laplace import GeneralizedLaplace
from harness.noise.laplace import Laplace
from harness.noise.linf_radial import LinfRadialNoise
from harness.noise.mixed_norm import MixedNorm
from harness.noise.pareto import Pareto
from harness.noise.pow_inf import PowInf
from harness.noise.registry import (
    NOISES,
    from_spec,
    noise_class,
    noise_families,
    rebuild_noise,
    register_noise,
)
from harness.noise.spherical import SphericalNoise
from harness.noise.uniform_ball import UniformBall
from harness.noise.uniform_cube import UniformCube

__all__ = [
    "NOISES",
    "CoordinateNoise",
    "Exp2",
    "ExpInf",
    "Gaussian",
    "GeneralizedGaussian",
    "GeneralizedLaplace",
    "Laplace",
    "LinfRadialNoise",
    "Marginal",
    "MixedNorm",
    "Noise",
    "Pareto",
    "PowInf",
    "SphericalNoise",
    "UniformBall",
    "UniformCube",
    "from_spec",
    "rebuild_noise",
    "noise_class",
    "noise_families",
    "register_noise",
]
