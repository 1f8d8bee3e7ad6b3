"""Verified training with interval bounds (Gowal et al. 2018, "On the effectiveness of
interval bound propagation for training verifiably robust models"), for the embedded
digits models.

The loss mixes the natural cross-entropy with the cross-entropy of the worst-case logits
over the l-inf box of radius eps (Gowal et al., eq. 12):

    L = kappa * CE(z(x), y) + (1 - kappa) * CE(-m(x, eps), y),

``m_j`` being a lower bound of the margin ``z_y - z_j`` over the box (``m_y = 0``). The
schedule follows theirs: a warm-up of natural training (eps = 0, kappa = 1), then eps
ramped linearly from 0 to ``eps`` while kappa falls from 1 to ``kappa_end``, both per
step, then held; they train at 1.1 times the eps they test at. The bound function is
injected (``baselines`` does not import ``certifiers``): the runner passes the ``ibp``
certifier's ``margin_bounds``.

The recipe is cached like the Gaussian ones (``baselines.training.load_or_train``): a
changed recipe hashes differently and retrains.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import asdict, dataclass

import torch
from torch import Tensor, nn
from tqdm import tqdm

from baselines.architectures import build
from baselines.datasets import Dataset

#: 2: the bounds fold the margins through the last linear layer of a nested ``Sequential``
#: too (the digits MLP's), which changes the trained weights.
IBP_RECIPE_VERSION = 2

#: ``(model, x, y, eps) -> (B, classes)`` lower bounds of the margins ``z_y - z_j`` over
#: the clipped l-inf box of radius eps, differentiable in the model's parameters.
VerifiedBounds = Callable[[nn.Module, Tensor, Tensor, float], Tensor]


@dataclass(frozen=True)
class IBPRecipe:
    """An architecture trained with interval bounds at radius ``eps`` (pixels in [0, 1]).

    Steps are split into ``warmup`` (natural training), ``ramp`` (eps and kappa move
    linearly) and the rest (held), as fractions of all steps; Adam's learning rate drops
    tenfold at 70% and again at 90% of the steps."""

    arch: str
    dataset: str
    eps: float = 0.11
    epochs: int = 100
    batch_size: int = 64
    lr: float = 1e-3
    warmup: float = 0.05
    ramp: float = 0.5
    kappa_end: float = 0.5
    seed: int = 0
    training: str = "ibp"
    version: int = IBP_RECIPE_VERSION

    def digest(self) -> str:
        return hashlib.sha256(json.dumps(asdict(self), sort_keys=True).encode()).hexdigest()[:16]

    @property
    def name(self) -> str:
        return f"{self.dataset}-{self.arch}-ibp-eps{self.eps:g}"

    def schedule(self, step: int, total: int) -> tuple[float, float]:
        """``(eps, kappa)`` at ``step`` of ``total``."""
        start, length = self.warmup * total, max(self.ramp * total, 1.0)
        progress = min(max((step - start) / length, 0.0), 1.0)
        return self.eps * progress, 1.0 - (1.0 - self.kappa_end) * progress


def train_ibp(recipe: IBPRecipe, data: Dataset, verified_bounds: VerifiedBounds) -> nn.Module:
    """Adam on Gowal et al.'s mixed loss, deterministic given the recipe (a progress bar
    on a terminal). Runs on one thread: the products are small, and on shared cores two
    threads ran 10 to 30 times slower (about 16 s on one thread against over 4 minutes
    on two, 100 epochs, with the cores busy); the weights do not depend on it."""
    if data.images is None or data.labels is None:
        raise ValueError(f"dataset {data.name!r} has no in-memory training set to train on")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return _train(recipe, data, verified_bounds)
    finally:
        torch.set_num_threads(threads)


def _train(recipe: IBPRecipe, data: Dataset, verified_bounds: VerifiedBounds) -> nn.Module:
    gen = torch.Generator().manual_seed(recipe.seed)
    torch.manual_seed(recipe.seed)
    model = build(recipe.arch)
    opt = torch.optim.Adam(model.parameters(), lr=recipe.lr)
    x = data.images[data.train_indices]
    y = data.labels[data.train_indices]
    per_epoch = -(-len(y) // recipe.batch_size)
    total = recipe.epochs * per_epoch
    sched = torch.optim.lr_scheduler.MultiStepLR(opt, [int(0.7 * total), int(0.9 * total)], 0.1)
    model.train()
    step = 0
    epochs = tqdm(range(recipe.epochs), desc=f"training {recipe.name}", unit="epoch",
                  disable=None, mininterval=1.0, leave=False)  # fmt: skip
    for _ in epochs:
        perm = torch.randperm(len(y), generator=gen)
        for start in range(0, len(y), recipe.batch_size):
            idx = perm[start : start + recipe.batch_size]
            xb, yb = x[idx], y[idx]
            eps, kappa = recipe.schedule(step, total)
            loss = kappa * nn.functional.cross_entropy(model(xb), yb)
            if eps > 0:
                margins = verified_bounds(model, xb, yb, eps)
                loss = loss + (1 - kappa) * nn.functional.cross_entropy(-margins, yb)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            step += 1
    model.eval()
    return model
