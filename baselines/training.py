"""Training the embedded default models with Gaussian noise augmentation (Cohen et al.
2019 train the base classifier on x + N(0, sigma^2 I)), cached with their sha256.

A model is identified by its recipe (architecture, dataset, sigma, hyper-parameters and
``RECIPE_VERSION``); a changed recipe hashes differently and retrains.
"""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch

from baselines.architectures import build
from baselines.datasets import Dataset
from smoothbench.atomic import write_atomic
from smoothbench.cache import cache_dir

RECIPE_VERSION = 1


@dataclass(frozen=True)
class Recipe:
    arch: str
    dataset: str
    sigma: float
    epochs: int = 60
    batch_size: int = 128
    lr: float = 2e-3
    weight_decay: float = 1e-4
    seed: int = 0
    version: int = RECIPE_VERSION

    def digest(self) -> str:
        return hashlib.sha256(json.dumps(asdict(self), sort_keys=True).encode()).hexdigest()[:16]

    @property
    def name(self) -> str:
        return f"{self.dataset}-{self.arch}-sigma{self.sigma:g}"


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def train(recipe: Recipe, data: Dataset) -> torch.nn.Module:
    """Adam on cross-entropy of x + N(0, sigma^2 I), deterministic given the recipe."""
    gen = torch.Generator().manual_seed(recipe.seed)
    torch.manual_seed(recipe.seed)
    model = build(recipe.arch)
    opt = torch.optim.Adam(model.parameters(), lr=recipe.lr, weight_decay=recipe.weight_decay)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=recipe.epochs)
    x = data.images[data.train_indices]
    y = data.labels[data.train_indices]
    model.train()
    for _ in range(recipe.epochs):
        perm = torch.randperm(len(y), generator=gen)
        for start in range(0, len(y), recipe.batch_size):
            idx = perm[start : start + recipe.batch_size]
            xb = x[idx]
            xb = xb + recipe.sigma * torch.randn(xb.shape, generator=gen)
            loss = torch.nn.functional.cross_entropy(model(xb), y[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
        sched.step()
    model.eval()
    return model


@dataclass(frozen=True)
class TrainedModel:
    name: str
    model: torch.nn.Module
    sha256: str
    path: Path
    recipe: Recipe


def load_or_train(
    recipe: Recipe,
    data: Dataset,
    retrain: bool = False,
    train_fn: Callable[[Any, Dataset], torch.nn.Module] | None = None,
    on_training: Callable[[str, Path], None] | None = None,
) -> TrainedModel:
    """The cached model for ``recipe`` (training it first if missing or ``retrain``).
    ``train_fn(recipe, data)`` trains another kind of recipe (one with ``arch``,
    ``name`` and ``digest()``, e.g. ``baselines.ibp_training.IBPRecipe``).
    ``on_training(name, path)`` is told before a model is trained (to say so: training
    takes seconds to minutes, and shows nothing where the output is not a terminal).

    The sha256 of the bytes written is kept beside the file (``.sha256``); a file whose
    bytes no longer match it, or that does not load, is trained again, never served. The
    model is loaded from the very bytes that are hashed."""
    path = cache_dir("models") / f"{recipe.name}-{recipe.digest()}.pt"
    check = path.with_suffix(".sha256")
    model = None
    if not retrain and path.exists() and check.exists():
        blob = path.read_bytes()
        sha256 = hashlib.sha256(blob).hexdigest()
        if sha256 == check.read_text().strip():
            try:
                model = _load_state(recipe.arch, blob)
            except Exception:  # a cache entry that does not load is trained again
                model = None
    if model is None:
        if on_training is not None:
            on_training(recipe.name, path)
        trained = (train_fn or train)(recipe, data)
        # torch.save names the archive after the file it writes to; save to memory so
        # that the bytes, and so the sha256, depend on the weights alone.
        buffer = io.BytesIO()
        torch.save(trained.state_dict(), buffer)
        blob = buffer.getvalue()
        sha256 = hashlib.sha256(blob).hexdigest()
        write_atomic(path, blob)
        write_atomic(check, sha256 + "\n")
        model = _load_state(recipe.arch, blob)
    return TrainedModel(recipe.name, model, sha256, path, recipe)


def _load_state(arch: str, blob: bytes) -> torch.nn.Module:
    model = build(arch)
    model.load_state_dict(torch.load(io.BytesIO(blob), map_location="cpu", weights_only=True))
    model.eval()
    return model
