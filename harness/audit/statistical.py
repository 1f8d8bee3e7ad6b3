"""The statistical soundness audit: certificates of a classifier whose smoothed
classifier is known exactly, counted when they are false.

**The known classifier.** A linear classifier ``f(x) = 1[w.x + b > 0]`` (class 0
otherwise), smoothed by a noise ``Z`` that is *centrally symmetric* (``Z`` and ``-Z`` have
the same law). Write ``m(x) = w.x + b``. Then ``w.Z`` is symmetric about 0 and

    P(f(x + Z) = 1) = P(w.Z > -m(x)) = P(w.Z < m(x)),

which is ``>= 1/2`` when ``m(x) > 0`` and ``<= 1/2`` when ``m(x) < 0``, with equality at
``m(x) = 0``: the smoothed classifier ``g`` has the same decision boundary as ``f``. So the
exact robust radius of ``g`` at ``x`` in the norm ``q`` is the distance from ``x`` to the
hyperplane in that norm, ``|m(x)| / ||w||_{q*}`` (``q*`` the dual norm: l-inf for l1,
l2 for l2, l1 for l-inf): a shift ``delta`` with ``w.delta = -m(x)`` crosses the boundary,
and by Hoelder's inequality no shorter shift does. The radius does not depend on the law
of ``Z`` beyond its symmetry, so it holds whatever the sampled noise's approximation
error. (The exact radius is of the smoothed classifier, as every certificate is; where
``p_A`` is close to 1/2 it is small, and at ``m(x) = 0`` it is 0.)

**Symmetry of the families.** Every registered family draws ``Z = T(G)`` from base normals
``G ~ N(0, I)`` by an odd transform, ``T(-G) = -T(G)``, and ``G`` is centrally symmetric,
so ``Z`` is: the spherical laws (Gaussian, generalized Gaussian, uniform ball, Exp2) as
``r(||G||) G / ||G||``; the coordinate-wise laws (Laplace, uniform cube, Pareto) as
``-sign(G_i) F^{-1}(Phi(-|G_i|))``; the l-inf radial laws (ExpInf, PowInf) as a radius of
``||U||_inf`` times ``U / ||U||_inf`` with ``U = erf(G / sqrt 2)``; the mixed-norm and
generalized Laplace laws likewise. ``check_symmetric`` verifies it bit for bit on the
sampler's own path (``Noise.perturb``) before a family is audited, and the audit refuses a
noise where it fails.

**The known-probability classifier.** A classifier that returns class 0 with a
probability ``p`` independent of ``x`` has a smoothed classifier that is constant, so its
exact radius is infinite unless ``p = 1/2``, where ``g`` is a tie and every certificate is
false. Off 1/2 it can never catch a radius that is too large; at 1/2 it is the linear
classifier on its own hyperplane (``m(x) = 0``). So the audit uses the linear classifier
at margins chosen for true ``p_A`` in ``TARGETS``, 1/2 included: the trials at 1/2 test
the CERTIFY rule's abstention, the others the radius.

**Power.** The trials use three directions ``w``: a coordinate axis, the diagonal and a
random direction. For the Gaussian the radius of Cohen et al. is exactly the linear
classifier's (every direction, l2; the axis for l1, the diagonal for l-inf, through the
norm conversions), so a certificate of the Gaussian is false almost exactly when its
Clopper-Pearson bound exceeds the true ``p_A``: the observed rate sits near alpha, and a
radius that is too large by any factor shows at once. For certifiers that are loose on
half-spaces the rate falls below alpha (``tightness`` says by how much).

**The test.** Each certificate is false with probability at most ``alpha`` plus the
certifier's ``confidence_spent`` ``s``, on the trial's own draws: the p-value of ``k``
false certificates of ``N`` is ``P(Bin(N, alpha + s) >= k)``, the one-sided binomial
test (``scipy.stats.binomtest``, alternative ``greater``). A certifier's own Monte Carlo
table is shared by all the trials; where it failed (probability at most ``s``, which its
guarantee allows) its certificates here are false beyond that rate, and the audit rightly
says so: the table in use is wrong. A p-value that also covered that event,
``s + P(Bin(N, alpha) >= k)``, could never fall below ``s``, so a certifier spending
``s >= REJECT / 3`` could certify any radius and pass. The test is made in each
direction on its own and the smallest p-value, Bonferroni-adjusted over the directions,
is the cell's; it fails at
``p < REJECT``. In l1 and l-inf only one direction is tight for Cohen et al.'s radius, so
a count pooled over the three would dilute a radius that is too large with the trials of
the loose directions.

**Limits.** ``n`` estimation draws at ``alpha`` cap ``p_lower`` at ``alpha^(1/n)``
(0.9968 at the defaults): a radius too large only above that ``p_A`` is not seen here
(the report's soundness gate checks the stored ``p_lower``).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import torch
from scipy.stats import binomtest
from tqdm import tqdm

import certifiers
from certifiers.base import NORMS, Certifier
from certifiers.bounds import certify_top_class
from harness.draws import ESTIMATION, SELECTION, DrawStream
from harness.noise import Noise, noise_class, noise_families

#: True p_A of the trials' margins (1/2: on the hyperplane, where any certificate is false).
TARGETS: tuple[float, ...] = (0.5, 0.6, 0.75, 0.9, 0.97, 0.995)
#: A cell (certifier, noise, norm) fails when its p-value is below this.
REJECT = 1e-3
DIRECTIONS: tuple[str, ...] = ("axis", "diagonal", "random")
_DUAL = {"l1": math.inf, "l2": 2.0, "linf": 1.0}
_PILOT_ROWS = 20000
#: Values (rows x dim) of a trial's base draws held at once, and of the pilot's float64
#: draws: larger dims are drawn in pieces (the trials' pieces change no count; the
#: pilot's change the margins it picks, whose exact radius is known whatever they are).
_CHUNK_VALUES = 1 << 23
_PILOT_CHUNK_VALUES = 1 << 22
#: The largest dim of a store's noise the audit of the store adds (CIFAR-10's 3072 in;
#: ImageNet's 150,528 would take hours of draws and is left to the audit noises).
STORE_DIM_CAP = 4096


@dataclass(frozen=True)
class StatisticalSettings:
    """``repetitions`` trials per (direction, target, dim) for every noise: ``n0``
    selection and ``n`` estimation draws each, bounded at ``alpha``. Noises are each
    family's ``examples`` (matched to ``sigma0`` = 0.5), all of them or the first
    (``all_examples``), at every dim of ``dims``."""

    dims: tuple[int, ...] = (2, 4, 8)
    repetitions: int = 60
    n0: int = 100
    n: int = 500
    alpha: float = 0.2
    seed: int = 20261202
    all_examples: bool = True

    @classmethod
    def quick(cls) -> StatisticalSettings:
        return cls(dims=(3,), repetitions=12, n0=50, n=200, all_examples=False)

    def __post_init__(self) -> None:
        if not 0.0 < self.alpha < 1.0:
            raise ValueError(f"alpha must lie in (0, 1), got {self.alpha!r}")
        for name in ("repetitions", "n0", "n"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)!r}")
        if not self.dims or min(self.dims) < 1:
            raise ValueError(f"dims must be positive, got {self.dims!r}")


@dataclass
class CellResult:
    """The audit of one (certifier, noise, norm): ``trials`` certifications, ``certified``
    of them not abstaining, ``false`` certificates, the p-value and the mean certified and
    exact radii over the correct certificates (``tightness``: their mean ratio)."""

    certifier: str
    noise: str
    norm: str
    trials: int
    certified: int
    false: int
    alpha: float
    spent: float
    p_value: float
    mean_certified: float | None
    mean_exact: float | None
    tightness: float | None

    @property
    def rate(self) -> float:
        return self.false / self.trials if self.trials else 0.0

    @property
    def passed(self) -> bool:
        return self.p_value >= REJECT


@dataclass
class Trials:
    """The trials on one dim: per trial the direction index, the margin ``m = w.x + b``
    and the counts of the CERTIFY rule's selection and estimation draws."""

    directions: np.ndarray
    margins: np.ndarray
    selection: np.ndarray = field(repr=False)
    estimation: np.ndarray = field(repr=False)


def p_value(false: int, trials: int, alpha: float, spent: float) -> float:
    """``P(Bin(N, alpha + s) >= k)`` for ``k`` false certificates of ``N`` trials, each
    false with probability at most ``alpha + s`` (module docstring)."""
    if trials == 0:
        return 1.0
    return float(binomtest(false, trials, min(1.0, alpha + spent), "greater").pvalue)


def dual_norm(w: np.ndarray, norm: str) -> float:
    """``||w||_{q*}``, the dual of the attacked norm ``q``."""
    return float(np.linalg.norm(w, ord=_DUAL[norm]))


def exact_radius(margin: np.ndarray, w: np.ndarray, norm: str) -> np.ndarray:
    """The smoothed linear classifier's exact radius ``|m| / ||w||_{q*}``."""
    return np.abs(margin) / dual_norm(w, norm)


def directions(dim: int, seed: int) -> np.ndarray:
    """Unit (l2) directions, one a row: ``DIRECTIONS`` in order."""
    rng = np.random.default_rng([seed, dim])
    random = rng.standard_normal(dim)
    rows = [np.eye(dim)[0], np.ones(dim), random]
    return np.stack([r / np.linalg.norm(r) for r in rows])


def audit_noises(dims: Iterable[int], all_examples: bool = True) -> list[Noise]:
    """Each registered family's ``examples`` (all, or the first) at each dim."""
    out: list[Noise] = []
    for dim in dims:
        for family in noise_families():
            examples = noise_class(family).examples(dim)
            out.extend(examples if all_examples else examples[:1])
    return out


def check_symmetric(noise: Noise, rows: int = 2000, seed: int = 0) -> None:
    """Refuse a noise whose sampler transform is not odd (``perturb(0, -G) =
    -perturb(0, G)`` bit for bit): the exact radius needs a centrally symmetric law."""
    G = torch.empty(rows, noise.dim)
    DrawStream(seed, 0, SELECTION, noise.dim).fill(G, 0)
    G[: rows // 10] *= 4.0  # the tails too
    noise.prepare("cpu")
    zero = torch.zeros(noise.dim)
    plus = noise.perturb(zero, G.clone(), torch.empty_like(G)).clone()
    minus = noise.perturb(zero, -G, torch.empty_like(G))
    if not torch.equal(plus, -minus):
        raise ValueError(
            f"{noise.name}: the sampler's transform is not odd, so the noise is not "
            "centrally symmetric and the linear classifier's radius is not known exactly"
        )


def supported_cells(
    noise: Noise, instances: dict[str, Certifier], norms: Sequence[str] = NORMS
) -> list[tuple[str, str]]:
    """The (certifier, norm) pairs that certify ``noise``."""
    return [(c, nm) for c, inst in instances.items() for nm in norms if inst.supports(noise, nm)]


def _margins(noise: Noise, w: np.ndarray, seed: int, reps: int) -> tuple[np.ndarray, np.ndarray]:
    """Per trial a direction index and a margin ``m`` with true ``p_A`` near a target,
    from the quantiles of ``w.Z`` in a pilot sample (they choose the points; the exact
    radius does not depend on them). Signs alternate, so both classes are predicted."""
    gen = torch.Generator().manual_seed(seed)
    step = max(1, min(_PILOT_ROWS, _PILOT_CHUNK_VALUES // noise.dim))
    pilot = np.concatenate(
        [
            noise.sample(min(step, _PILOT_ROWS - start), gen).numpy() @ w.T
            for start in range(0, _PILOT_ROWS, step)
        ]
    )  # (rows, directions)
    dirs, margins = [], []
    for d in range(len(w)):
        for target in TARGETS:
            m = float(np.quantile(pilot[:, d], target))
            for r in range(reps):
                dirs.append(d)
                margins.append(0.0 if target == 0.5 else (m if r % 2 == 0 else -m))
    return np.array(dirs), np.array(margins)


def draw_trials(
    noise: Noise, settings: StatisticalSettings, base: torch.Tensor | None = None
) -> Trials:
    """The CERTIFY counts of every trial: the linear classifier evaluated on the
    sampler's noisy inputs ``perturb(0, G) + x`` (``w.(x + z) + b = m + w.z``), on base
    draws of shape (trials, n0 + n, dim), trial ``t`` on stream ``(seed, t)``: ``base``,
    or drawn here a few trials at a time (``base_draws``), so that a large dim never
    holds them all."""
    w = directions(noise.dim, settings.seed)
    dirs, margins = _margins(noise, w, settings.seed + noise.dim, settings.repetitions)
    trials, rows, dim = len(dirs), settings.n0 + settings.n, noise.dim
    noise.prepare("cpu")
    step = trials if base is not None else max(1, _CHUNK_VALUES // (rows * dim))
    ones = np.empty((trials, rows), dtype=bool)
    for first in range(0, trials, step):
        last = min(trials, first + step)
        chunk = (
            base[first:last] if base is not None else base_draws(last - first, settings, dim, first)
        )
        flat = chunk.reshape(-1, dim)
        z = noise.perturb(torch.zeros(dim), flat, torch.empty_like(flat)).reshape(-1, rows, dim)
        proj = torch.einsum("trd,td->tr", z.double(), torch.from_numpy(w[dirs[first:last]]))
        ones[first:last] = (proj + torch.from_numpy(margins[first:last])[:, None] > 0).numpy()
    n0 = settings.n0
    sel1 = ones[:, :n0].sum(axis=1)
    est1 = ones[:, n0:].sum(axis=1)
    return Trials(
        dirs,
        margins,
        np.stack([n0 - sel1, sel1], axis=1).astype(np.int64),
        np.stack([settings.n - est1, est1], axis=1).astype(np.int64),
    )


def base_draws(
    trials: int, settings: StatisticalSettings, dim: int, first: int = 0
) -> torch.Tensor:
    """Base normals of trials ``first, ..., first + trials - 1``: trial ``t``'s selection
    rows from stream ``(seed, t, SELECTION)`` and estimation rows from ``(seed, t,
    ESTIMATION)``, as the sampler draws them for an image ``t``."""
    out = torch.empty(trials, settings.n0 + settings.n, dim)
    for i, t in enumerate(range(first, first + trials)):
        DrawStream(settings.seed, t, SELECTION, dim).fill(out[i, : settings.n0], 0)
        DrawStream(settings.seed, t, ESTIMATION, dim).fill(out[i, settings.n0 :], 0)
    return out


def judge(
    name: str,
    certifier: Certifier,
    noise: Noise,
    norm: str,
    trials: Trials,
    settings: StatisticalSettings,
) -> CellResult:
    """Certify every trial with ``certifier`` and count the false certificates: a
    prediction on the hyperplane (true p_A = 1/2), of the wrong class, or with a radius
    above the exact one."""
    outcome = certify_top_class(
        trials.selection, trials.estimation, settings.alpha, noise.law_distance()
    )
    radius = np.asarray(certifier.radius(noise, outcome.p_lower, norm), dtype=np.float64)
    w = directions(noise.dim, settings.seed)
    exact = np.empty(len(radius))
    for d in range(len(w)):
        sel = trials.directions == d
        exact[sel] = exact_radius(trials.margins[sel], w[d], norm)
    truth = np.where(trials.margins > 0, 1, np.where(trials.margins < 0, 0, -2))
    certified = outcome.prediction != -1
    wrong = certified & (outcome.prediction != truth)
    false = certified & (wrong | (radius > exact))
    good = certified & ~wrong & (exact > 0)
    spent = certifier.confidence_spent(noise, norm)
    mean_c = float(radius[good].mean()) if good.any() else None
    mean_e = float(exact[good].mean()) if good.any() else None
    tight = float((radius[good] / exact[good]).mean()) if good.any() else None
    k, total = int(false.sum()), len(radius)
    by_direction = [
        p_value(int(false[sel].sum()), int(sel.sum()), settings.alpha, spent)
        for d in range(len(w))
        if (sel := trials.directions == d).any()
    ]
    p_cell = min(1.0, len(by_direction) * min(by_direction)) if by_direction else 1.0
    return CellResult(
        name,
        noise.name,
        norm,
        total,
        int(certified.sum()),
        k,
        settings.alpha,
        spent,
        p_cell,
        mean_c,
        mean_e,
        tight,
    )


def smoothing_certifiers(
    names: Iterable[str] | None = None, options: Mapping[str, Mapping[str, Any]] | None = None
) -> dict[str, Certifier]:
    """The registered count-based certifiers (the deterministic ones left out), each
    built with its ``options`` (a store's ``certifier_options``: the certifier audited is
    the one that certified)."""
    chosen = certifiers.available() if names is None else list(names)
    options = options or {}
    out = {}
    for name in chosen:
        inst = certifiers.get(name, **dict(options.get(name) or {}))
        if not certifiers.is_deterministic(inst):
            out[name] = inst
    return out


def run_statistical_audit(
    settings: StatisticalSettings | None = None,
    certifier_names: Iterable[str] | None = None,
    noises: Sequence[Noise] | None = None,
    progress: bool = True,
    options: Mapping[str, Mapping[str, Any]] | None = None,
) -> list[CellResult]:
    """Audit every (certifier, noise, norm) the certifiers (built with ``options``)
    support among ``noises`` (default: ``audit_noises``); one ``CellResult`` each."""
    settings = settings or StatisticalSettings()
    instances = smoothing_certifiers(certifier_names, options)
    if noises is None:
        noises = audit_noises(settings.dims, settings.all_examples)
    work = [(nz, cells) for nz in noises if (cells := supported_cells(nz, instances))]
    results: list[CellResult] = []
    trials = len(DIRECTIONS) * len(TARGETS) * settings.repetitions
    rows = settings.n0 + settings.n
    # the noises of one dim share their trials' base draws: drawn once where they fit in
    # one piece, else by draw_trials a few trials at a time for each noise
    held: dict[int, torch.Tensor | None] = {}
    bar = tqdm(work, desc="statistical audit", unit="noise", disable=not progress)
    for noise, cells in bar:
        bar.set_postfix_str(noise.name, refresh=False)
        check_symmetric(noise)
        if noise.dim not in held:
            fits = trials * rows * noise.dim <= _CHUNK_VALUES
            held[noise.dim] = base_draws(trials, settings, noise.dim) if fits else None
        drawn = draw_trials(noise, settings, held[noise.dim])
        for name, norm in cells:
            results.append(judge(name, instances[name], noise, norm, drawn, settings))
    return results


def settings_record(settings: StatisticalSettings) -> dict[str, object]:
    """The settings as the store records them, with the targets and directions."""
    record = asdict(settings)
    record["dims"] = list(settings.dims)
    record["targets"] = list(TARGETS)
    record["directions"] = list(DIRECTIONS)
    return record
