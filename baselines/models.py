"""Building the models of a run: a checkpoint of the user's, or the embedded recipes
trained here (``baselines.training``), each with its sha256 and training sigma."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import torch

from baselines.datasets import Dataset


@dataclass(frozen=True)
class ModelEntry:
    """A model of a run: display name, module, sha256 of its weights, training sigma0."""

    name: str
    model: torch.nn.Module
    sha256: str
    sigma0: float


def build_models(
    *,
    arch: str | None,
    checkpoint: str | None,
    train_sigmas: Sequence[float],
    data: Dataset,
) -> list[ModelEntry]:
    """A TorchScript ``checkpoint`` (one model, trained at ``train_sigmas[0]``), or one
    model of ``arch`` trained here per sigma (cached)."""
    from baselines.training import Recipe, file_sha256, load_or_train

    if checkpoint is not None:
        path = Path(checkpoint)
        if not path.is_file():
            raise FileNotFoundError(f"config key 'run.checkpoint': no file at {path}")
        model = torch.jit.load(str(path), map_location="cpu")
        return [ModelEntry(path.stem, model, file_sha256(path), train_sigmas[0])]
    if arch is None:
        raise ValueError("give one of 'run.arch' and 'run.checkpoint'")
    out = []
    for sigma in train_sigmas:
        trained = load_or_train(Recipe(arch, data.name, sigma), data)
        out.append(ModelEntry(trained.name, trained.model, trained.sha256, sigma))
    return out
