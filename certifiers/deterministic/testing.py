"""The conformance kit for deterministic certifiers: every one, built-in or third-party,
must pass it on the models it supports.

    from certifiers.deterministic.testing import check_deterministic_certifier
    check_deterministic_certifier(certifiers.get("ibp"), model, x, y, eps=0.05)

Properties (``DETERMINISTIC_PROPERTIES``), each checked and reported on its own:

- ``contains``: the margin bounds lie below the true margins ``z_y - z_j`` at random
  points and at random vertices of the clipped box (the model evaluated in float64);
- ``attack``: no certified input is broken by a PGD attack with random restarts inside
  the clipped box (a necessary check: an attack that fails proves nothing, one that
  succeeds on a certified input proves a false certificate);
- ``exact_at_zero``: at eps = 0 exactly the inputs the model classifies as labelled,
  by a margin above the rounding slack (``ROUNDING_SLACK``), are certified (the box is a
  point; bounds are exact there);
- ``radius``: the bisection radius is certified, and lies in [0, 1].
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable

import torch
from torch import Tensor, nn

from certifiers.deterministic.base import DeterministicCertifier, input_box, rounding_slack
from certifiers.deterministic.ops import Box

DETERMINISTIC_PROPERTIES = ("contains", "attack", "exact_at_zero", "radius")


def exact_model(model: nn.Module) -> nn.Module:
    """A float64 copy of ``model`` in eval mode, to evaluate true margins precisely."""
    return copy.deepcopy(model).double().eval()


def true_margins(model: nn.Module, x: Tensor, y: Tensor) -> Tensor:
    """``z_y - z_j`` of ``model`` at ``x`` (batch ``(N, ...)``), shape ``(N, C)``."""
    z = model(x)
    return z.gather(1, y.unsqueeze(1)) - z


def box_points(box: Box, samples: int, generator: torch.Generator) -> Tensor:
    """``(B, samples, *shape)`` points of each box: half uniform inside, half vertices."""
    lower, upper = box
    shape = (lower.shape[0], samples, *lower.shape[1:])
    u = torch.rand(shape, generator=generator, dtype=lower.dtype)
    half = samples // 2
    u[:, half:] = (u[:, half:] > 0.5).to(lower.dtype)
    return lower.unsqueeze(1) + u * (upper - lower).unsqueeze(1)


def pgd_attack(
    model: nn.Module,
    box: Box,
    y: Tensor,
    steps: int = 40,
    restarts: int = 4,
    generator: torch.Generator | None = None,
) -> Tensor:
    """Which inputs a PGD attack (Madry et al. 2018) misclassifies somewhere in their box:
    signed-gradient ascent on ``max_j z_j - z_y``, projected onto the box, with a step
    decaying from half the box width, from the centre and from ``restarts`` random
    starts."""
    lower, upper = box
    width = upper - lower
    broken = torch.zeros(len(y), dtype=torch.bool, device=y.device)
    for restart in range(restarts + 1):
        if restart == 0:
            point = (lower + upper) / 2
        else:
            noise = torch.rand(lower.shape, generator=generator, dtype=lower.dtype)
            point = lower + noise.to(lower.device) * width
        for step in range(steps):
            point = point.detach().requires_grad_(True)
            z = model(point)
            others = z.scatter(1, y.unsqueeze(1), -torch.inf)
            gap = others.amax(1) - z.gather(1, y.unsqueeze(1)).squeeze(1)
            broken |= gap.detach() > 0
            (grad,) = torch.autograd.grad(gap.sum(), point)
            size = 0.5 * (1 - step / steps) + 0.01
            point = torch.minimum(torch.maximum(point + size * width * grad.sign(), lower), upper)
        with torch.no_grad():
            broken |= model(point).argmax(1) != y
    return broken


def check_contains(
    certifier: DeterministicCertifier, model, x, y, eps, samples: int = 64, seed: int = 0
) -> None:
    exact = exact_model(model)
    x64 = x.to(torch.float64)
    margins = certifier.margin_bounds(model, x, y, eps).detach().to(torch.float64)
    eps_t = torch.as_tensor(eps, dtype=torch.float64).expand(len(x))
    points = box_points(input_box(x64, eps_t), samples, torch.Generator().manual_seed(seed))
    with torch.no_grad():
        flat = points.reshape(-1, *x.shape[1:])
        truth = true_margins(exact, flat, y.repeat_interleave(samples))
    truth = truth.reshape(len(x), samples, -1)
    excess = margins.unsqueeze(1) - truth
    tol = 1e-9 * (1 + truth.abs())
    if (excess > tol).any():
        worst = float(excess.max())
        raise AssertionError(
            f"contains: a margin bound exceeds the true margin by {worst:.3g} at a point of "
            f"the box (eps={eps})"
        )


def check_attack(certifier: DeterministicCertifier, model, x, y, eps, seed: int = 0) -> int:
    """Returns how many inputs were certified (and so attacked in vain)."""
    certified = certifier.certify(model, x, y, eps).certified
    exact = exact_model(model)
    eps_t = torch.as_tensor(eps, dtype=torch.float64).expand(len(x))
    box = input_box(x.to(torch.float64), eps_t)
    broken = pgd_attack(exact, box, y, generator=torch.Generator().manual_seed(seed))
    if (certified & broken).any():
        idx = torch.nonzero(certified & broken).flatten().tolist()
        raise AssertionError(f"attack: inputs {idx} are certified at eps={eps} but PGD breaks them")
    return int(certified.sum())


def check_exact_at_zero(certifier: DeterministicCertifier, model, x, y) -> None:
    result = certifier.certify(model, x, y, 0.0)
    with torch.no_grad():
        z = exact_model(model)(x.to(torch.float64))
    y = torch.as_tensor(y, device=z.device)
    rival = z.scatter(1, y.unsqueeze(1), -math.inf).amax(1)
    margin = z.gather(1, y.unsqueeze(1)).squeeze(1) - rival
    _, scale = certifier.read(model).forward_with_scale(x.to(torch.float64))
    right = (z.argmax(1) == y) & (margin > rounding_slack(scale))
    if not torch.equal(result.certified, right):
        idx = torch.nonzero(result.certified != right).flatten().tolist()
        raise AssertionError(f"exact_at_zero: at eps = 0 inputs {idx} are certified wrongly")


def check_radius(certifier: DeterministicCertifier, model, x, y) -> None:
    radius = certifier.certified_radius(model, x, y)
    if ((radius < 0) | (radius > 1)).any():
        raise AssertionError("radius: a certified radius outside [0, 1]")
    positive = radius > 0
    if positive.any():
        result = certifier.certify(model, x[positive], y[positive], radius[positive])
        if not result.certified.all():
            raise AssertionError("radius: an input is not certified at its own radius")


def deterministic_checks(
    certifier: DeterministicCertifier, model: nn.Module, x: Tensor, y: Tensor, eps: float
) -> list[tuple[str, Callable[[], object]]]:
    """``(property, check)`` pairs, one per property, for a registry-wide test."""
    return [
        ("contains", lambda: check_contains(certifier, model, x, y, eps)),
        ("attack", lambda: check_attack(certifier, model, x, y, eps)),
        ("exact_at_zero", lambda: check_exact_at_zero(certifier, model, x, y)),
        ("radius", lambda: check_radius(certifier, model, x, y)),
    ]


def example_networks() -> dict[str, tuple[nn.Module, Tensor, Tensor, float]]:
    """Seeded small float64 networks (an MLP; a CNN with batch normalization and average
    pooling) with inputs in [0, 1], their predictions as labels and an eps at which some
    inputs are certified and the attack has room: what the registry-wide test runs."""
    gen = torch.Generator().manual_seed(7)
    torch.manual_seed(7)
    mlp = nn.Sequential(
        nn.Flatten(), nn.Linear(16, 12), nn.ReLU(), nn.Linear(12, 12), nn.ReLU(), nn.Linear(12, 4)
    )
    cnn = nn.Sequential(
        nn.Conv2d(1, 3, 3, padding=1), nn.BatchNorm2d(3), nn.ReLU(), nn.AvgPool2d(2),
        nn.Flatten(), nn.Linear(12, 8), nn.ReLU(), nn.Linear(8, 4),
    )  # fmt: skip
    with torch.no_grad():
        bn = cnn[1]
        bn.running_mean.copy_(0.2 * torch.randn(3, generator=gen))
        bn.running_var.copy_(0.5 + torch.rand(3, generator=gen))
    out = {}
    for name, net, eps in (("mlp", mlp, 0.1), ("cnn", cnn, 0.21)):  # ibp certifies about half
        net = net.double().eval()
        x = torch.rand(12, 1, 4, 4, generator=gen, dtype=torch.float64)
        with torch.no_grad():
            y = net(x).argmax(1)
        out[name] = (net, x, y, eps)
    return out


def registered_deterministic_checks() -> list[tuple[str, Callable[[], object]]]:
    """``(id, check)`` for every registered deterministic certifier, example network and
    property: what the registry-wide conformance test parametrizes over."""
    import certifiers

    out = []
    for name in certifiers.available():
        c = certifiers.get(name)
        if not certifiers.is_deterministic(c):
            continue
        for net_name, (net, x, y, eps) in example_networks().items():
            for prop, check in deterministic_checks(c, net, x, y, eps):
                out.append((f"{name}-{net_name}-{prop}", check))
    return out


def check_deterministic_certifier(
    certifier: DeterministicCertifier, model: nn.Module, x: Tensor, y: Tensor, eps: float
) -> None:
    """Run every property; one ``AssertionError`` lists all that failed."""
    failures = []
    for name, check in deterministic_checks(certifier, model, x, y, eps):
        try:
            check()
        except AssertionError as err:
            failures.append(f"{name}: {err}")
    if failures:
        raise AssertionError(f"{certifier!r} fails:\n  " + "\n  ".join(failures))
