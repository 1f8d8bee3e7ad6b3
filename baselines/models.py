"""Building the models of a run from their specs (the config's ``[[models]]`` entries):
a checkpoint of the user's, or an embedded recipe trained here (``baselines.training``),
each with its sha256 and the Gaussian sigma it was trained with."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import torch

from baselines.datasets import Dataset
from baselines.ibp_training import VerifiedBounds


@dataclass(frozen=True)
class ModelSpec:
    """One model of a run, as the config gives it.

    Exactly one of ``recipe`` (an architecture trained here, e.g. ``"mlp"``, the way
    ``training`` says) and ``checkpoint`` (a file of the user's, read as ``format``;
    ``arch`` names the architecture of a bare state_dict). ``sigma0`` is the Gaussian sigma
    the model was trained with, to which the run's noises are matched; ``smoothing = false``
    runs no smoothing noise on it (a model for the deterministic certifiers only).
    ``trust_pickle`` allows reading a pickled file (which can run code)."""

    name: str | None = None
    recipe: str | None = None
    training: str = "gaussian"
    checkpoint: str | None = None
    format: str = "torchscript"
    arch: str | None = None
    sigma0: float | None = None
    smoothing: bool = True
    trust_pickle: bool = False

    def display_name(self, dataset: str) -> str:
        """The name shown in the store and the report."""
        if self.name:
            return self.name
        if self.checkpoint is not None:
            return Path(self.checkpoint).stem
        suffix = "" if self.training == "gaussian" else f"-{self.training}"
        sigma = "" if self.sigma0 is None else f"-sigma{self.sigma0:g}"
        return f"{dataset}-{self.recipe}{suffix}{sigma}"


@dataclass(frozen=True)
class ModelEntry:
    """A model of a run: display name, module, sha256 of its weights, training sigma0."""

    name: str
    model: torch.nn.Module
    sha256: str
    sigma0: float | None
    spec: ModelSpec | None = None


def build_model(
    spec: ModelSpec, data: Dataset, verified_bounds: VerifiedBounds | None = None
) -> ModelEntry:
    """Load the checkpoint, or train (cached) the recipe, of one spec. A recipe with
    ``training = "ibp"`` is trained with interval bounds (``baselines.ibp_training``),
    which needs ``verified_bounds`` (the runner passes the ``ibp`` certifier's)."""
    from baselines.training import Recipe, file_sha256, load_or_train

    if spec.checkpoint is not None:
        path = Path(spec.checkpoint)
        if not path.is_file():
            raise FileNotFoundError(f"config key 'models.checkpoint': no file at {path}")
        model = torch.jit.load(str(path), map_location="cpu")
        return ModelEntry(spec.display_name(data.name), model, file_sha256(path), spec.sigma0, spec)
    if spec.recipe is None:
        raise ValueError("a model needs a 'recipe' or a 'checkpoint'")
    if spec.training == "ibp":
        trained = _train_ibp(spec, data, verified_bounds)
    elif spec.training == "gaussian":
        trained = load_or_train(Recipe(spec.recipe, data.name, spec.sigma0), data)
    else:
        raise ValueError(
            f"unknown training {spec.training!r} for recipe {spec.recipe!r}; "
            "known: 'gaussian', 'ibp'"
        )
    name = spec.name or trained.name
    return ModelEntry(name, trained.model, trained.sha256, spec.sigma0, spec)


def _train_ibp(spec: ModelSpec, data: Dataset, verified_bounds: VerifiedBounds | None):
    from baselines.ibp_training import IBPRecipe, train_ibp
    from baselines.training import load_or_train

    if verified_bounds is None:
        raise ValueError(
            f"recipe {spec.recipe!r} with training = 'ibp' needs verified_bounds, the "
            "interval bound function (e.g. certifiers.get('ibp').margin_bounds)"
        )
    recipe = IBPRecipe(spec.recipe, data.name)
    return load_or_train(recipe, data, train_fn=partial(train_ibp, verified_bounds=verified_bounds))


def build_models(
    specs: Sequence[ModelSpec], data: Dataset, verified_bounds: VerifiedBounds | None = None
) -> list[ModelEntry]:
    """Every model of a run, in config order; display names must be unique.
    ``verified_bounds`` trains the ``training = "ibp"`` recipes (see ``build_model``)."""
    out = [build_model(spec, data, verified_bounds) for spec in specs]
    names = [m.name for m in out]
    if len(set(names)) != len(names):
        raise ValueError(f"two models share a name: {sorted(names)}; give each a 'name'")
    return out
