"""The attack audit: adversarial search inside the certified balls of a run's models.

**Smoothed classifiers.** For a certified image ``x`` (class ``c``, radius ``R`` of a
certifier in the norm ``q``), projected gradient descent on the smoothed classifier
(Salman et al., 2019: the gradient of ``log E_z softmax(f(x + delta + z))_c``, the
expectation over ``samples`` draws of the noise, fresh at each step) with ``restarts``
starts (the first at ``delta = 0``, the others random in the ball), steps of ``2.5 R /
steps`` along the steepest direction of ``q`` (l2: the normalized gradient; l-inf: its
sign; l1: the sign of its largest coordinates, spread over them), each projected back onto
the ball ``||delta||_q <= R`` (l1: Duchi et al., 2008). The smoothed prediction at ``x +
delta`` is then re-estimated with ``fresh`` draws of the sampler, independent of the
attack's: every certificate here (Cohen et al., Yang et al., Zhang et al., Dvijotham et
al.) guarantees ``P(f(x + delta + Z) = c) > 1/2`` on the ball, so the point *breaks* the
certificate when the one-sided Clopper-Pearson upper bound of that probability at
``break_alpha`` is below 1/2.

A break is a red flag only in numbers: a certificate is false with probability alpha
plus the certifier's ``confidence_spent`` ``s``, and the break test errs with probability
``break_alpha``, so the number of breaks among ``N`` images is tested as the statistical
audit's false certificates are (``statistical.p_value``: ``P(Bin(N, alpha + break_alpha
+ s) >= k)``). One image cannot reach ``REJECT`` at the usual alphas (``P(Bin(1, 0.002)
>= 1) = 0.002``): where even every image broken could not, a break found fails the cell
(``run.attack_rows``), at a false-alarm cost of ``alpha + break_alpha + s`` per image.

**Empirical robustness.** Per image, the smallest radius at which the attack succeeds
(the point estimate of ``P(f(x + delta + Z) = c)`` at most 1/2): the largest certified
radius ``R_max`` of the image, doubled up to ``2^growth R_max`` until the attack
succeeds, then ``bisection`` halvings of the bracket. It is an upper bound on the true
robust radius of the smoothed classifier; the gap to the certified radius is what the
certificate leaves on the table plus what the attack misses. Images where no attack
succeeds up to the cap are counted, not averaged.

**Deterministic certifiers (IBP, CROWN).** Their certificate is about the base network
itself, with no probability, over the l-inf box of the certified radius clipped to the
pixel range [0, 1] (``certifiers.deterministic.base``): PGD on the network (float64, as
certified) inside that clipped box, with random restarts, must never change the
prediction of the label's class. Any success is a bug. (The smoothing certificates hold
on all of R^d, so their attack is not clipped.)
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass

import numpy as np
import torch
from scipy.stats import beta
from tqdm import tqdm

from harness.draws import ESTIMATION
from harness.noise import Noise
from harness.sampler import SamplerOptions, count_predictions

#: The norms' steepest-ascent steps and projections.
NORMS = ("l1", "l2", "linf")
#: Doublings of the certified radius in the base-network attack's search (up to 256x).
BASE_GROWTH = 8


@dataclass(frozen=True)
class AttackSettings:
    """At most ``images`` certified images per (model, noise, norm), of at most
    ``models`` smoothed models (None: all)."""

    images: int = 10
    models: int | None = None
    samples: int = 64
    steps: int = 20
    restarts: int = 2
    fresh: int = 2000
    break_alpha: float = 0.001
    growth: int = 3
    bisection: int = 4
    seed: int = 20261203

    @classmethod
    def quick(cls) -> AttackSettings:
        return cls(
            images=2, models=1, samples=32, steps=8, restarts=1, fresh=500, growth=2, bisection=2
        )


@dataclass
class ImageAttack:
    """One image of one (model, noise, norm): per certifier its radius and whether the
    attack at that radius broke it, and the empirical radius (None: none found)."""

    image: int
    label: int
    certified: dict[str, float]
    broken: dict[str, bool]
    empirical: float | None


def project(delta: torch.Tensor, radius: float, norm: str) -> torch.Tensor:
    """Each row of ``delta`` projected onto the ball ``||.||_norm <= radius``."""
    if norm == "linf":
        return delta.clamp(-radius, radius)
    if norm == "l2":
        length = delta.norm(dim=1, keepdim=True)
        return delta * torch.clamp(radius / length.clamp_min(1e-30), max=1.0)
    if norm == "l1":
        return _project_l1(delta, radius)
    raise ValueError(f"unknown norm {norm!r}")


def _project_l1(delta: torch.Tensor, radius: float) -> torch.Tensor:
    """Duchi et al. (2008): soft thresholding at the theta that brings the l1 norm to
    ``radius`` (rows already inside are left alone)."""
    a = delta.abs()
    inside = a.sum(dim=1) <= radius
    u, _ = torch.sort(a, dim=1, descending=True)
    css = u.cumsum(dim=1) - radius
    k = torch.arange(1, a.shape[1] + 1, dtype=a.dtype, device=a.device)
    rho = ((u - css / k) > 0).sum(dim=1, keepdim=True).clamp_min(1)
    theta = css.gather(1, rho - 1) / rho.to(a.dtype)
    out = delta.sign() * (a - theta).clamp_min(0)
    return torch.where(inside[:, None], delta, out)


def steepest(grad: torch.Tensor, norm: str) -> torch.Tensor:
    """The unit step of steepest ascent for ``norm`` (rows)."""
    if norm == "linf":
        return grad.sign()
    if norm == "l2":
        top = grad.abs().amax(dim=1, keepdim=True)
        scaled = grad / torch.where(top > 0, top, torch.ones_like(top))  # no underflow
        length = scaled.norm(dim=1, keepdim=True)
        return torch.where(length > 0, scaled / length, torch.zeros_like(grad))
    k = max(1, grad.shape[1] // 20)
    top = grad.abs().topk(k, dim=1).indices
    out = torch.zeros_like(grad)
    out.scatter_(1, top, grad.gather(1, top).sign() / k)
    return out


def random_in_ball(
    rows: int, dim: int, radius: float, norm: str, gen: torch.Generator
) -> torch.Tensor:
    """``rows`` random float64 points of the ball (uniform in the cube, projected)."""
    start = torch.empty(rows, dim, dtype=torch.float64).uniform_(-1, 1, generator=gen) * radius
    return project(start, radius, norm)


def attack_smoothed(
    model: torch.nn.Module,
    x: torch.Tensor,
    noise: Noise,
    cls: int,
    radius: float,
    norm: str,
    settings: AttackSettings,
    gen: torch.Generator,
) -> torch.Tensor:
    """PGD on the smoothed classifier (module docstring); the perturbation (of ``x``'s
    shape) of the restart whose final noisy estimate of ``p_c`` is lowest."""
    dim = x.numel()
    flat = x.reshape(dim).to(torch.float64)
    R = settings.restarts
    delta = random_in_ball(R, dim, radius, norm, gen)
    delta[0] = 0.0
    step = 2.5 * radius / settings.steps
    m = settings.samples
    last = torch.ones(R, dtype=torch.float64)
    for _ in range(settings.steps):
        z = noise.sample(m, gen)  # (m, dim) float64
        d = delta.clone().requires_grad_(True)
        inputs = (flat + d[:, None, :] + z[None]).to(torch.float32)
        logits = model(inputs.reshape(R * m, *x.shape)).reshape(R, m, -1)
        p = torch.softmax(logits.double(), dim=-1)[..., cls].mean(dim=1)
        loss = torch.log(p.clamp_min(1e-30)).sum()
        grad = _gradient(loss, d)
        last = p.detach()
        delta = project(delta - step * steepest(grad, norm), radius, norm)
    return delta[int(torch.argmin(last))].reshape(x.shape)


def _gradient(loss: torch.Tensor, d: torch.Tensor) -> torch.Tensor:
    """d loss / d d; zero for a model whose output does not depend on its input."""
    if not loss.requires_grad:
        return torch.zeros_like(d)
    (grad,) = torch.autograd.grad(loss, d, allow_unused=True)
    return torch.zeros_like(d) if grad is None else grad


def smoothed_probability(
    model: torch.nn.Module,
    x: torch.Tensor,
    noise: Noise,
    cls: int,
    n: int,
    seed: int,
    index: int,
    options: SamplerOptions | None = None,
) -> tuple[int, int]:
    """Fresh sampler draws at ``x``, the forward pass run as ``options`` say (the run's:
    an autocast changes the base classifier the certificates are about): (count of class
    ``cls``, n)."""
    counts = count_predictions(
        model,
        x.to(torch.float32),
        [noise],
        n,
        seed=seed,
        index=index,
        stream=ESTIMATION,
        options=options,
    )[0]
    return int(counts[cls]), n


def upper_bound(count: int, n: int, alpha: float) -> float:
    """One-sided (1 - alpha) Clopper-Pearson upper bound of a proportion."""
    return 1.0 if count >= n else float(beta.ppf(1 - alpha, count + 1, n - count))


def audit_image(
    model: torch.nn.Module,
    x: torch.Tensor,
    noise: Noise,
    cls: int,
    norm: str,
    certified: dict[str, float],
    settings: AttackSettings,
    index: int,
    options: SamplerOptions | None = None,
) -> ImageAttack:
    """Attack one certified image at each certifier's radius, then search its empirical
    radius; the smoothed probabilities are estimated with the forward pass of ``options``."""
    gen = torch.Generator().manual_seed(settings.seed * 1_000_003 + index)
    broken: dict[str, bool] = {}
    at: dict[float, tuple[int, int]] = {}

    def estimate(radius: float) -> tuple[int, int]:
        if radius not in at:
            delta = attack_smoothed(model, x, noise, cls, radius, norm, settings, gen)
            at[radius] = smoothed_probability(
                model, x + delta, noise, cls, settings.fresh, settings.seed, index, options
            )
        return at[radius]

    distance = noise.law_distance()  # the draws follow the sampled law, a certificate the stated
    for name, radius in certified.items():
        count, n = estimate(radius)
        broken[name] = upper_bound(count, n, settings.break_alpha) + distance < 0.5

    def succeeds(radius: float) -> bool:
        count, n = estimate(radius)
        return count <= n / 2

    hi = smallest_success(succeeds, max(certified.values()), settings.growth, settings.bisection)
    return ImageAttack(index, cls, dict(certified), broken, hi)


def smallest_success(
    succeeds: Callable[[float], bool], start: float, doublings: int, bisections: int
) -> float | None:
    """The empirical radius: the first of ``start, 2 start, ..., 2^doublings start`` at
    which the attack ``succeeds``, narrowed by ``bisections`` halvings of the interval
    below it; None when the attack fails at every one."""
    lo, hi, r = 0.0, None, start
    for _ in range(doublings + 1):
        if succeeds(r):
            hi = r
            break
        lo, r = r, 2 * r
    if hi is not None:
        for _ in range(bisections):
            mid = (lo + hi) / 2
            lo, hi = (lo, mid) if succeeds(mid) else (mid, hi)
    return hi


def attack_base(
    model: torch.nn.Module,
    x: torch.Tensor,
    cls: int,
    radius: float,
    settings: AttackSettings,
    gen: torch.Generator,
) -> bool:
    """PGD on the base network (float64) in the l-inf box of ``radius`` around ``x``,
    clipped to the pixel range [0, 1] as the deterministic certificates are: True when
    some point of the box changes the prediction away from ``cls``."""
    dim = x.numel()
    flat = x.reshape(dim).to(torch.float64)
    R = max(settings.restarts, 4)

    def into_box(delta: torch.Tensor) -> torch.Tensor:
        return (flat + delta.clamp(-radius, radius)).clamp(0.0, 1.0) - flat

    delta = into_box(random_in_ball(R, dim, radius, "linf", gen))
    delta[0] = 0.0
    step = 2.5 * radius / settings.steps
    for _ in range(max(settings.steps, 20)):
        d = delta.clone().requires_grad_(True)
        logits = model((flat + d).reshape(R, *x.shape))
        others = logits.clone()
        others[:, cls] = -math.inf
        margin = logits[:, cls] - others.max(dim=1).values
        if (margin.detach() < 0).any():
            return True
        grad = _gradient(margin.sum(), d)
        delta = into_box(delta - step * grad.sign())
    with torch.no_grad():
        logits = model((flat + delta).reshape(R, *x.shape))
    return bool((logits.argmax(dim=1) != cls).any())


def base_empirical_radius(
    model: torch.nn.Module, x: torch.Tensor, cls: int, start: float, settings: AttackSettings
) -> float | None:
    """The smallest l-inf radius (doubling from ``start``, then bisection) at which PGD
    changes the base network's prediction; None if none up to ``2^BASE_GROWTH start``
    (base-network attacks are cheap, and IBP's radii on undefended networks tiny)."""
    gen = torch.Generator().manual_seed(settings.seed)
    return smallest_success(
        lambda r: attack_base(model, x, cls, r, settings, gen),
        start,
        max(settings.growth, BASE_GROWTH),
        settings.bisection,
    )


@dataclass
class SmoothedTarget:
    """The certified images of one (model, noise, norm): image -> (x, class,
    {certifier: radius}), the alpha and confidence spent per certifier, and the forward
    pass's options of the run that certified them."""

    model_name: str
    model: torch.nn.Module
    noise_name: str
    noise: Noise
    norm: str
    images: dict[int, tuple[torch.Tensor, int, dict[str, float]]]
    alpha: float
    spent: dict[str, float]
    options: SamplerOptions | None = None


def attack_targets(
    targets: Sequence[SmoothedTarget], settings: AttackSettings, progress: bool = True
) -> dict[tuple[str, str, str], list[ImageAttack]]:
    """Every target's images attacked; keyed by (model, noise, norm)."""
    out: dict[tuple[str, str, str], list[ImageAttack]] = defaultdict(list)
    total = sum(len(t.images) for t in targets)
    bar = tqdm(total=total, desc="attack audit", unit="img", disable=not progress)
    for t in targets:
        model = t.model.eval()
        for p in model.parameters():
            p.requires_grad_(False)
        for index, (x, cls, certified) in sorted(t.images.items()):
            out[(t.model_name, t.noise_name, t.norm)].append(
                audit_image(model, x, t.noise, cls, t.norm, certified, settings, index, t.options)
            )
            bar.update(1)
    bar.close()
    return out


def settings_record(settings: AttackSettings) -> dict[str, object]:
    """The settings as the store records them."""
    return asdict(settings)


def summarize_certifier(
    attacks: Sequence[ImageAttack], name: str
) -> tuple[int, int, list[float], list[float]]:
    """One certifier over ``attacks``: (images attacked, broken, and the certified and
    empirical radii of the images where the attack succeeded somewhere, paired)."""
    mine = [a for a in attacks if name in a.certified]
    broken = sum(a.broken[name] for a in mine)
    cert = [a.certified[name] for a in mine if a.empirical is not None]
    emp = [a.empirical for a in mine if a.empirical is not None]
    return len(mine), broken, cert, emp


def mean(values: Sequence[float]) -> float | None:
    return float(np.mean(values)) if len(values) else None
