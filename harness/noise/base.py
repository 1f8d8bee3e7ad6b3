"""The smoothing-noise interface shared by every distribution.

Every noise is a deterministic transform of base draws ``G ~ N(0, I_d)`` (one row a
sample), so that all distributions evaluated on one image see the same randomness and
their per-image outcomes are paired (common random numbers, DESIGN.md).
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from typing import Any, ClassVar

import torch

_REGISTRY: dict[str, type[Noise]] = {}


def register_noise(family: str):
    """Class decorator: make a noise family constructible from its spec (``from_spec``)."""

    def decorate(cls: type[Noise]) -> type[Noise]:
        if family in _REGISTRY and _REGISTRY[family] is not cls:
            raise ValueError(f"noise family {family!r} is registered twice")
        cls.family = family
        _REGISTRY[family] = cls
        return cls

    return decorate


def noise_families() -> list[str]:
    """Names of the registered noise families."""
    return sorted(_REGISTRY)


def noise_class(family: str) -> type[Noise]:
    """The class registered for a noise family."""
    if family not in _REGISTRY:
        raise ValueError(f"unknown noise family {family!r}; known: {noise_families()}")
    return _REGISTRY[family]


def from_spec(spec: dict[str, Any]) -> Noise:
    """Rebuild a noise from ``Noise.spec()`` (as stored in a run's database)."""
    if not isinstance(spec, dict) or "family" not in spec:
        raise ValueError(f"a noise spec is a dict with a 'family' key, got {spec!r}")
    return noise_class(spec["family"])(**spec.get("params", {}))


def check_positive_finite(name: str, value: Any) -> float:
    """Validate a positive, finite real parameter and return it as a float."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__}")
    value = float(value)
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be positive and finite, got {value!r}")
    return value


def check_dim(dim: Any) -> int:
    """Validate the data dimension ``d >= 1``."""
    if isinstance(dim, bool) or not isinstance(dim, int):
        raise TypeError(f"dim must be an int, got {type(dim).__name__}")
    if dim < 1:
        raise ValueError(f"dim must be >= 1, got {dim}")
    return dim


class Noise(ABC):
    """A smoothing distribution on R^d, realised as a transform of base normals.

    Subclasses set ``family`` through ``@register_noise``, validate parameters in
    ``__init__``, and implement ``transform`` and ``log_prob``. ``params()`` must
    return the constructor's keyword arguments, so that ``from_spec(noise.spec())``
    rebuilds an equal noise.
    """

    family: ClassVar[str] = "noise"
    dim: int

    @abstractmethod
    def params(self) -> dict[str, Any]:
        """Constructor keyword arguments (JSON-serialisable), ``dim`` included."""

    @abstractmethod
    def transform(self, G: torch.Tensor, out: torch.Tensor | None = None) -> torch.Tensor:
        """Map base draws ``G`` of shape ``(n, dim)`` to noise samples of the same shape.

        ``out`` may be ``G`` itself (in place) or a preallocated buffer.
        """

    @abstractmethod
    def log_prob(self, z: torch.Tensor) -> torch.Tensor:
        """Log density of each row of ``z`` up to an additive constant (``-inf`` off support)."""

    def perturb(self, x: torch.Tensor, G: torch.Tensor, out: torch.Tensor) -> torch.Tensor:
        """``out = x + transform(G)`` for a flat input ``x`` of shape ``(dim,)``.

        The sampler's hot path; families may fuse the two steps.
        """
        self.transform(G, out=out)
        return out.add_(x)

    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """Draw ``n`` samples: base normals from ``generator``, then ``transform``."""
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise ValueError(f"n must be a positive int, got {n!r}")
        device = generator.device if generator is not None else torch.device("cpu")
        G = torch.randn(n, self.dim, generator=generator, device=device, dtype=torch.float64)
        return self.transform(G, out=G)

    def second_moment(self) -> float:
        """``E ||z||_2^2``; used to compare noises at matched variance."""
        raise NotImplementedError(f"{type(self).__name__} does not state its second moment")

    def spec(self) -> dict[str, Any]:
        return {"family": self.family, "params": self.params()}

    @property
    def name(self) -> str:
        """A stable, human-readable identifier, e.g. ``gaussian(dim=64,sigma=0.25)``."""
        inner = ",".join(f"{k}={_fmt(v)}" for k, v in sorted(self.params().items()))
        return f"{self.family}({inner})"

    def _check_G(self, G: torch.Tensor) -> None:
        if not isinstance(G, torch.Tensor):
            raise TypeError(f"G must be a torch.Tensor, got {type(G).__name__}")
        if G.ndim != 2 or G.shape[1] != self.dim:
            raise ValueError(f"G must have shape (n, {self.dim}), got {tuple(G.shape)}")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Noise) and self.spec() == other.spec()

    def __hash__(self) -> int:
        return hash(self.name)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.params().items())
        return f"{type(self).__name__}({args})"


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return repr(value)
    return str(value)
