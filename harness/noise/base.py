"""The smoothing-noise interface: everything a run, a certifier and a report use.

Every noise is a deterministic transform of base draws ``G ~ N(0, I_d)`` (one row a
sample), so that all distributions evaluated on one image see the same randomness and
their per-image outcomes are paired (common random numbers).

A family is one class, registered with ``@register_noise("name")``, that states:

- ``scale_param``: the name of its scale parameter (the second moment scales as its
  square); ``matched`` is derived from it and ``second_moment``;
- ``transform`` (base draws -> noise), ``log_prob`` (log density up to a constant) and
  ``second_moment`` (``E ||z||_2^2``);
- ``marginals``: one-dimensional statistics whose laws characterize the family (the
  radius, a coordinate, the max-coordinate law), stated independently of the transform;
  ``harness.noise.testing.check_noise`` tests the samples against them;
- ``example_params``: shape parameters of a few members, for the registry-wide
  conformance tests.

Registration refuses a class that lacks any of the required pieces (the three methods, a
``scale_param`` that names a constructor parameter, ``dim``; ``harness.noise.registry``),
so a missing piece is an error when the family is defined, never in the middle of a run.
``marginals`` and ``example_params`` have defaults (none, and one member with the
constructor's defaults); the conformance kit fails a family that states no marginal.
"""

from __future__ import annotations

import inspect
import math
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol

import numpy as np
import torch

from harness.noise.batch import Batch
from harness.noise.params import check_positive_finite
from smoothbench.names import choices


def approximation_distance(name: str, stated: Mapping[str, Any] | None) -> float:
    """The sum of the ``tv_bound`` of every entry of an ``approximation()`` (``None``: 0),
    for the noise ``name``; an entry without a ``tv_bound`` in [0, 1), or a sum that
    reaches 1, is a clear error, never a silent 0."""
    if stated is None or (isinstance(stated, Mapping) and not stated):
        return 0.0
    if not isinstance(stated, Mapping):
        raise ValueError(
            f"noise {name}: its approximation is no table of stated bounds (got {stated!r})"
        )
    total = 0.0
    for what, bound in stated.items():
        tv = bound.get("tv_bound") if isinstance(bound, Mapping) else None
        if isinstance(tv, bool) or not isinstance(tv, int | float) or not 0 <= tv < 1:
            raise ValueError(
                f"noise {name}: its approximation {what!r} states no tv_bound in [0, 1) "
                f"(got {tv!r}), so a certificate cannot account for it; approximation() "
                "must give each entry a total variation bound"
            )
        total += float(tv)
    if not total < 1.0:
        raise ValueError(f"noise {name}: its approximations add up to a distance {total:g}")
    return total


#: Rows per chunk of the full-dimensional Monte Carlo in ``log_ratio_samples``.
_LOG_RATIO_CHUNK_VALUES = 1 << 22


class Law(Protocol):
    """A one-dimensional law, as a frozen scipy distribution provides it."""

    def cdf(self, x: Any) -> Any: ...

    def ppf(self, q: Any) -> Any: ...

    def rvs(self, size: Any = None, random_state: Any = None) -> Any: ...


LogRatioSampler = Callable[[np.ndarray], np.ndarray]
"""``sampler(delta)``: draws of ``log pi(z - delta) - log pi(z)``, ``z ~ pi``, on draws of
``z`` fixed when the sampler was made (so shifts of several sizes see the same draws)."""


@dataclass(frozen=True)
class Marginal:
    """A one-dimensional statistic of the samples and its law under the family.

    ``statistic`` maps samples ``z`` of shape ``(n, dim)`` (float64 numpy) to values
    independent under the stated law (one per row, or several where coordinates are
    i.i.d.); ``cdf`` is their CDF under that law."""

    name: str
    statistic: Callable[[np.ndarray], np.ndarray]
    cdf: Callable[[np.ndarray], np.ndarray]


class Noise(ABC):
    """A smoothing distribution on R^d, realised as a transform of base normals.

    Subclasses set ``scale_param``, validate parameters in ``__init__`` (storing each
    under its own name, ``dim`` included) and implement ``transform``, ``log_prob`` and
    ``second_moment``. ``params()`` returns the constructor's keyword arguments, so that
    ``from_spec(noise.spec())`` rebuilds an equal noise.
    """

    family: ClassVar[str] = "noise"
    #: The constructor parameter that scales the law: ``E||z||^2`` grows as its square.
    scale_param: ClassVar[str]
    #: Shape parameters (no scale, no dim) of members used by the conformance tests.
    example_params: ClassVar[tuple[dict[str, Any], ...]] = ({},)
    #: The version of the transform (the coupling of ``G`` to the noise): raised when a
    #: family maps the same base draws to other samples (of the same law), so that a run
    #: stored with the earlier coupling is not resumed with the new one
    #: (``harness.identity``).
    coupling_version: ClassVar[int] = 1
    dim: int

    # what every family implements ------------------------------------------------------
    @abstractmethod
    def transform(self, G: torch.Tensor, out: torch.Tensor | None = None) -> torch.Tensor:
        """Map base draws ``G`` of shape ``(n, dim)`` to noise samples of the same shape,
        dtype and device.

        ``out`` may be ``G`` itself (in place) or a preallocated buffer."""

    @abstractmethod
    def log_prob(self, z: torch.Tensor) -> torch.Tensor:
        """Log density of each row of ``z`` up to an additive constant (``-inf`` off support)."""

    @abstractmethod
    def second_moment(self) -> float:
        """``E ||z||_2^2`` (``inf`` where it diverges); used to match noises in variance."""

    def marginals(self) -> list[Marginal]:
        """Statistics whose laws characterize the family, stated independently of
        ``transform`` (see ``Marginal``). Families that share a coupling inherit theirs."""
        return []

    # derived from the above -------------------------------------------------------------
    @classmethod
    def constructor_params(cls) -> tuple[str, ...]:
        """Names of the constructor's parameters (``dim`` included)."""
        sig = inspect.signature(cls.__init__)
        return tuple(name for name in sig.parameters if name != "self")

    @classmethod
    def parameters(cls) -> dict[str, inspect.Parameter]:
        """The constructor's parameters a user gives (all but ``self`` and ``dim``), in
        order, with their defaults and kinds."""
        sig = inspect.signature(cls.__init__).parameters
        return {name: p for name, p in sig.items() if name not in ("self", "dim")}

    @classmethod
    def check_param_names(cls, given: Iterable[str], matched: bool = False) -> None:
        """A ``ValueError`` that says what to write where the parameter names ``given``
        (``dim`` aside: the dataset sets it) do not fit the constructor: one it does not
        take (with the closest it does), one without a default that is missing, or the
        scale given to a noise that ``matched`` scales itself."""
        given = list(given)
        sig = cls.parameters()
        takes = list(sig)
        where = f"noise {cls.family}"
        if "dim" in given:
            raise ValueError(f"{where}: 'dim' is set by the dataset; do not give it")
        open_ended = any(p.kind in (p.VAR_KEYWORD, p.VAR_POSITIONAL) for p in sig.values())
        for name in given:
            if name not in takes and not open_ended:
                raise ValueError(
                    f"{where} has no parameter {name!r}; {choices(name, takes, 'it takes')}"
                )
        if matched and cls.scale_param in given:
            raise ValueError(
                f"{where}: its {cls.scale_param} is matched to the model's sigma0; give only "
                f"shape parameters, or set matched = false to give {cls.scale_param}"
            )
        needed = [
            p
            for p in takes
            if sig[p].default is inspect.Parameter.empty
            and sig[p].kind not in (sig[p].VAR_KEYWORD, sig[p].VAR_POSITIONAL)
            and p not in given
            and not (matched and p == cls.scale_param)
        ]
        if needed:
            scale = f" ({cls.scale_param} is matched to the model's sigma0)" if matched else ""
            raise ValueError(
                f"{where} needs {', '.join(needed)}{scale}; {choices(None, takes, 'it takes')}"
            )

    def params(self) -> dict[str, Any]:
        """Constructor keyword arguments (JSON-serialisable), ``dim`` included."""
        return {name: getattr(self, name) for name in self.constructor_params()}

    def shape_params(self) -> dict[str, Any]:
        """The parameters other than the scale and the dimension (e.g. ``{"k": 8.0}``)."""
        return {k: v for k, v in self.params().items() if k not in (self.scale_param, "dim")}

    @classmethod
    def matched(cls, sigma0: float, dim: int, **params: Any) -> Noise:
        """The member with ``E||z||_2^2 = dim * sigma0^2``, the second moment of the
        Gaussian ``N(0, sigma0^2 I)`` a model was trained with.

        ``params`` are the shape parameters; the scale is set as
        ``sigma0 * sqrt(dim / m_1)``, ``m_1`` being the second moment at unit scale (it
        grows as the square of the scale)."""
        sigma0 = check_positive_finite("sigma0", sigma0)
        if cls.scale_param in params:
            raise TypeError(f"matched sets {cls.scale_param!r} itself; give shape parameters")
        probe = cls(**{cls.scale_param: 1.0}, dim=dim, **params)
        moment = probe.second_moment()
        if not (math.isfinite(moment) and moment > 0):
            raise ValueError(
                f"{probe.name} has no finite second moment, so it cannot be matched to "
                f"a Gaussian's; give its {cls.scale_param} explicitly (matched = false)"
            )
        return cls(**{cls.scale_param: sigma0 * math.sqrt(dim / moment)}, dim=dim, **params)

    @classmethod
    def examples(cls, dim: int) -> list[Noise]:
        """Members for conformance tests: ``example_params`` matched to sigma0 = 0.5."""
        return [cls.matched(0.5, dim, **p) for p in cls.example_params]

    def perturb(self, x: torch.Tensor, G: torch.Tensor | Batch, out: torch.Tensor) -> torch.Tensor:
        """``out = x + transform(G)`` for a flat input ``x`` of shape ``(dim,)``.

        The sampler's hot path. ``G`` may be a ``harness.noise.batch.Batch``, which carries
        the per-row statistics shared by the noises of a batch and reusable scratch; the
        built-in families fuse the two steps and compute in the output's dtype where that
        is exact to its rounding. Everything stays on ``G``'s device.

        Here: ``transform`` into ``out``, then the addition. A transform that returns
        another tensor than ``out`` (a plugin that ignores ``out=``) has it copied in when
        its shape, dtype and device are ``out``'s, and is refused otherwise: the sampler
        reads ``out``, never the return value."""
        z = self.transform(G.G if isinstance(G, Batch) else G, out=out)
        if z is not out:
            if not isinstance(z, torch.Tensor) or (z.shape, z.dtype, z.device) != (
                out.shape,
                out.dtype,
                out.device,
            ):
                got = (
                    f"{tuple(z.shape)} {z.dtype} on {z.device}"
                    if isinstance(z, torch.Tensor)
                    else type(z).__name__
                )
                raise ValueError(
                    f"noise {self.name}: transform returned {got} for base draws of shape "
                    f"{tuple(out.shape)} {out.dtype} on {out.device}; it must return "
                    "(rows, dim) samples of G's dtype and device, written into out="
                )
            out.copy_(z)
        return out.add_(x)

    def prepare(self, device: torch.device | str) -> None:
        """Build and copy to ``device`` whatever the transform needs there (tables), so
        that a sampling loop afterwards neither builds nor copies anything (here:
        nothing to build)."""
        return None

    def approximation(self) -> dict[str, Any] | None:
        """The stated error of the transform where it approximates the law (a table), for
        the run manifest; ``None`` where the transform is exact up to rounding. Each entry
        names one approximation and holds its ``tv_bound``, a bound on the total variation
        distance it adds between the law sampled and the stated one (``law_distance``)."""
        return None

    def law_distance(self) -> float:
        """A bound on the total variation distance between the law ``transform`` samples
        and the noise's stated law: the sum of the ``tv_bound`` of every entry of
        ``approximation()`` (the approximations compose, and total variation is a metric);
        0 where the transform is exact up to rounding. Certification lowers ``p_lower`` by
        it (``certifiers.bounds.certify_top_class``). An approximation that states no
        ``tv_bound`` in [0, 1) is a clear error, never a silent 0."""
        return approximation_distance(self.name, self.approximation())

    def sampled_law_distance(self, recorded: Mapping[str, Any] | None) -> float:
        """The law distance of draws made earlier: a run records every noise's
        ``approximation()`` when it samples (the manifest's ``noise_approximations``,
        which leaves out an exact transform). The larger of that record's distance and
        this code's, so that neither a table changed since nor one missing from the
        record can lower it; this code's where there is no record (``None``)."""
        current = self.law_distance()
        if recorded is None:
            return current
        return max(current, approximation_distance(self.name, recorded.get(self.name)))

    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """Draw ``n`` samples (float64): base normals from ``generator``, then ``transform``."""
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise ValueError(f"n must be a positive int, got {n!r}")
        device = generator.device if generator is not None else torch.device("cpu")
        G = torch.randn(n, self.dim, generator=generator, device=device, dtype=torch.float64)
        return self.transform(G, out=G)

    def log_ratio_samples(self, delta: np.ndarray, n: int, seed: int = 0) -> np.ndarray:
        """``n`` draws of ``Lambda = log pi(z - delta) - log pi(z)`` with ``z ~ pi``: the
        statistic of the Neyman-Pearson test against the shift ``delta``."""
        return self.log_ratio_sampler(n, seed)(delta)

    def log_ratio_sampler(self, n: int, seed: int = 0) -> LogRatioSampler:
        """A ``LogRatioSampler`` over ``n`` draws. Here in full dimension: the draws and
        their log-densities ``log pi(z)`` (which do not depend on the shift) are kept
        while ``n * dim`` values fit in memory (else regenerated, the same, at each call,
        in chunks of ``O(chunk * dim)``); time ``O(n dim)`` per shift. Families with
        structure override it with a reduced form."""
        rows = max(1, _LOG_RATIO_CHUNK_VALUES // self.dim)
        keep = n * self.dim <= 4 * _LOG_RATIO_CHUNK_VALUES
        kept: list[tuple[torch.Tensor, torch.Tensor]] = []  # filled by a whole first pass

        def chunks():
            if kept:
                yield from kept
                return
            gen = torch.Generator().manual_seed(int(seed))
            drawn_all = []
            for start in range(0, n, rows):
                z = self.sample(min(rows, n - start), gen)
                drawn = (z, self.log_prob(z))
                if keep:
                    drawn_all.append(drawn)
                yield drawn
            kept.extend(drawn_all)

        def sampler(delta: np.ndarray) -> np.ndarray:
            delta_t = torch.as_tensor(np.asarray(delta, dtype=np.float64))
            if delta_t.shape != (self.dim,):
                raise ValueError(f"delta must have shape ({self.dim},), got {tuple(delta_t.shape)}")
            parts = [(self.log_prob(z - delta_t) - base).numpy() for z, base in chunks()]
            return np.concatenate(parts)

        return sampler

    def log_ratio_cost(self, delta: np.ndarray) -> int:
        """Values ``log_ratio_samples`` computes per sample for ``delta``: ``dim`` here;
        ``O(1)`` for the families with a reduced form."""
        return self.dim

    def spec(self) -> dict[str, Any]:
        return {"family": self.family, "params": self.params()}

    @property
    def name(self) -> str:
        """A stable, human-readable identifier, e.g. ``gaussian(dim=64,sigma=0.25)``."""
        inner = ",".join(f"{k}={_fmt(v)}" for k, v in sorted(self.params().items()))
        return f"{self.family}({inner})"

    def check_G(self, G: torch.Tensor) -> None:
        """Refuse base draws that are not a tensor (``TypeError``) or not of shape
        ``(n, dim)`` (``ValueError``): the first line of a ``transform``, as the built-in
        families have it (the conformance kit asks for the refusal)."""
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
