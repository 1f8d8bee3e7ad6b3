"""Building the models of a run from their specs (the config's ``[[models]]`` entries):
a checkpoint of the user's (any format of ``baselines.checkpoints``, or a known public
checkpoint), or an embedded recipe trained here (``baselines.training``), each with its
sha256 and the Gaussian sigma it was trained with."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import torch

from baselines.architectures import ARCHITECTURES
from baselines.datasets import Dataset
from baselines.ibp_training import IBPRecipe, VerifiedBounds
from baselines.training import Recipe
from smoothbench.names import unknown_name

#: File names that say nothing about the model; the folders above them name it instead.
_GENERIC_STEMS = {"checkpoint", "model", "best", "last", "final", "weights"}
#: How a recipe is trained here: Gaussian data augmentation at sigma0, or interval bounds.
TRAININGS = ("gaussian", "ibp")


@dataclass(frozen=True)
class ModelSpec:
    """One model of a run, as the config gives it.

    Exactly one of ``recipe`` (an architecture trained here, e.g. ``"mlp"``, the way
    ``training`` says) and ``checkpoint`` (a file of the user's, read as ``format``, by
    default ``auto``; ``arch`` names the architecture of a bare state_dict). ``known``
    names a public checkpoint (``baselines.checkpoints.KNOWN_CHECKPOINTS``) whose
    architecture, format and training sigma the config need not repeat. ``sigma0`` is the
    Gaussian sigma the model was trained with, to which the run's noises are matched;
    ``smoothing = false`` runs no smoothing noise on it (a model for the deterministic
    certifiers only; a Gaussian recipe without ``sigma0`` is then trained without noise).
    ``trust_pickle`` allows reading a pickled file (which can run code).
    """

    name: str | None = None
    recipe: str | None = None
    training: str = "gaussian"
    checkpoint: str | None = None
    format: str = "auto"
    arch: str | None = None
    sigma0: float | None = None
    smoothing: bool = True
    trust_pickle: bool = False
    known: str | None = None

    def display_name(self, dataset: str) -> str:
        """The name shown in the store and the report: ``name``, else the known
        checkpoint's name, else the file's name without its suffixes (prefixed by up to
        three parent folders when the file name is generic, as ``checkpoint.pth.tar``),
        else the name of the recipe trained (``trained_recipe``)."""
        if self.name:
            return self.name
        if self.known:
            return self.known
        if self.checkpoint is not None:
            path = Path(self.checkpoint)
            stem = path.name.split(".")[0] or path.stem
            if stem.lower() in _GENERIC_STEMS:
                parents = [p for p in path.parent.parts[-3:] if p not in ("", ".", "/")]
                return "-".join(parents) or stem
            return stem
        return self.trained_recipe(dataset).name

    def trained_recipe(self, dataset: str) -> Recipe | IBPRecipe:
        """What a recipe spec trains (and caches) on ``dataset``: Gaussian augmentation at
        ``sigma0`` (0 with ``smoothing = false`` and no sigma0), or interval bounds."""
        if self.recipe is None:
            raise ValueError("only a recipe is trained here; this spec names none")
        if self.training == "ibp":
            return IBPRecipe(self.recipe, dataset)
        if self.training != "gaussian":
            raise ValueError(
                f"unknown training {self.training!r} for recipe {self.recipe!r}; known: "
                f"{', '.join(repr(t) for t in TRAININGS)}"
            )
        return Recipe(self.recipe, dataset, self.sigma0 if self.sigma0 is not None else 0.0)


@dataclass(frozen=True)
class ModelEntry:
    """A model of a run: display name, module, sha256 of its weights, training sigma0."""

    name: str
    model: torch.nn.Module
    sha256: str
    sigma0: float | None
    spec: ModelSpec | None = None


def build_model(
    spec: ModelSpec,
    data: Dataset,
    where: str = "models[0]",
    verified_bounds: VerifiedBounds | None = None,
    on_training: Callable[[str, Path], None] | None = None,
) -> ModelEntry:
    """Load the checkpoint, or train (cached) the recipe, of one spec; ``where`` names
    the spec's config entry in messages. A recipe with ``training = "ibp"`` is trained
    with interval bounds (``baselines.ibp_training``), which needs ``verified_bounds``
    (the runner passes the ``ibp`` certifier's). ``on_training``: as in
    ``baselines.training.load_or_train``."""
    from baselines.training import file_sha256, load_or_train

    if spec.checkpoint is not None:
        from baselines.checkpoints import (
            CheckpointError,
            DamagedCheckpoint,
            LoadRequest,
            load_checkpoint,
        )
        from baselines.checkpoints.known import known_checkpoint

        _check_arch_dataset(spec.arch, data, where)
        request = LoadRequest(arch=spec.arch, trust_pickle=spec.trust_pickle, where=where)
        try:
            model = load_checkpoint(spec.checkpoint, spec.format, request)
        except FileNotFoundError as err:
            if spec.known is None:
                raise
            known = known_checkpoint(spec.known)
            raise FileNotFoundError(
                f"{err}; {spec.known} sits at {known.path} in its release ({known.source}); "
                "nothing is downloaded"
            ) from None
        except CheckpointError as err:
            if spec.known is None or isinstance(err, DamagedCheckpoint):
                raise  # damaged is not "the wrong file"
            raise CheckpointError(
                f"known = {spec.known!r} is a {spec.arch} in {spec.format} format, and "
                f"{spec.checkpoint} does not load as one (the wrong file?): {err}"
            ) from None
        sha256 = file_sha256(Path(spec.checkpoint))
        if spec.known is not None:
            published = known_checkpoint(spec.known).sha256
            if published is not None and published != sha256:
                raise CheckpointError(
                    f"config key '{where}.checkpoint': {spec.checkpoint} has sha256 {sha256}, "
                    f"but the published {spec.known} has {published}"
                )
        check_outputs(model, data, where)
        return ModelEntry(spec.display_name(data.name), model, sha256, spec.sigma0, spec)
    if spec.recipe is None:
        raise ValueError(f"config key '{where}': a model needs a 'recipe' or a 'checkpoint'")
    try:
        recipe = spec.trained_recipe(data.name)
    except ValueError as err:
        raise ValueError(f"config key '{where}.training': {err}") from None
    if isinstance(recipe, IBPRecipe):
        trained = _train_ibp(recipe, data, verified_bounds, on_training)
    else:
        trained = load_or_train(recipe, data, on_training=on_training)
    name = spec.name or trained.name
    return ModelEntry(name, trained.model, trained.sha256, spec.sigma0, spec)


def _check_arch_dataset(arch: str | None, data: Dataset, where: str) -> None:
    if arch is None:
        return
    if arch not in ARCHITECTURES:
        raise ValueError(
            f"config key '{where}.arch': {unknown_name('architecture', arch, ARCHITECTURES)}"
        )
    wants = ARCHITECTURES[arch].dataset
    if wants != data.name:
        raise ValueError(
            f"config key '{where}.arch': {arch!r} takes {wants} inputs, but the run's "
            f"dataset is {data.name}"
        )


def check_outputs(model: torch.nn.Module, data: Dataset, where: str) -> None:
    """One forward pass on a blank input: the model must take the dataset's input shape
    and return one logit per class (a clear error now, not deep inside the sampler)."""
    x = torch.zeros(1, *data.input_shape)
    try:
        with torch.inference_mode():
            logits = model.eval()(x)
    except Exception as err:
        raise ValueError(
            f"config key '{where}.checkpoint': the model rejects a batch of shape "
            f"{tuple(x.shape)} ({data.name} images in [0, 1]): {err}"
        ) from None
    if not isinstance(logits, torch.Tensor) or tuple(logits.shape) != (1, data.num_classes):
        shape = tuple(logits.shape) if isinstance(logits, torch.Tensor) else type(logits).__name__
        raise ValueError(
            f"config key '{where}.checkpoint': the model returns {shape} for one input; "
            f"{data.name} needs logits of shape (batch, {data.num_classes})"
        )


def _train_ibp(
    recipe: IBPRecipe,
    data: Dataset,
    verified_bounds: VerifiedBounds | None,
    on_training: Callable[[str, Path], None] | None = None,
):
    from baselines.ibp_training import train_ibp
    from baselines.training import load_or_train

    if verified_bounds is None:
        raise ValueError(
            f"recipe {recipe.arch!r} with training = 'ibp' needs verified_bounds, the "
            "interval bound function (e.g. certifiers.get('ibp').margin_bounds)"
        )
    train_fn = partial(train_ibp, verified_bounds=verified_bounds)
    return load_or_train(recipe, data, train_fn=train_fn, on_training=on_training)


def repeated_name(specs: Sequence[ModelSpec], dataset: str) -> tuple[int, int, str] | None:
    """The first spec whose display name (the name its model is stored under) an earlier
    spec has: ``(its index, the earlier one's, the name)``; None when every name is its
    own."""
    first: dict[str, int] = {}
    for i, spec in enumerate(specs):
        name = spec.display_name(dataset)
        if name in first:
            return i, first[name], name
        first[name] = i
    return None


def build_models(
    specs: Sequence[ModelSpec],
    data: Dataset,
    verified_bounds: VerifiedBounds | None = None,
    on_training: Callable[[str, Path], None] | None = None,
) -> list[ModelEntry]:
    """Every model of a run, in config order; display names must be unique (checked before
    anything is trained). ``verified_bounds`` trains the ``training = "ibp"`` recipes (see
    ``build_model``); ``on_training`` is told of each model trained (not loaded)."""
    repeated = repeated_name(specs, data.name)
    if repeated is not None:
        i, j, name = repeated
        raise ValueError(f"models[{i}] and models[{j}] share the name {name!r}; give each a 'name'")
    return [
        build_model(spec, data, f"models[{i}]", verified_bounds, on_training)
        for i, spec in enumerate(specs)
    ]
