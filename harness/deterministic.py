"""Deterministic certification in a run: every deterministic certifier of the config
(``ibp``, ``crown``) on every model, per test image, at each eps of the grid (the
config's ``[report] radii.linf``, and 0) and at the largest certified eps (bisection).

Unlike the count certificates these need the model, so the runner calls this after the
sampling loop. Resumable: an image is redone only if its radius or a certificate at some
eps of the grid is missing; each batch of images is written in one transaction. The
radius stored is the larger of the bisection's and the largest eps of the grid that was
certified (a certified box certifies every smaller radius, so both are guarantees),
capped at 1: a grid eps above 1 clips to the same box, all of [0, 1]^d.

A model a certifier cannot bound (a layer it does not support, a TorchScript checkpoint,
more coefficients than allowed) is skipped for that certifier with a warning, and the
reason is recorded in the manifest (``deterministic_skipped``): the run goes on.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import torch
from torch import Tensor
from tqdm import tqdm

from baselines.datasets import Dataset
from baselines.ibp_training import VerifiedBounds
from baselines.models import ModelEntry
from certifiers.base import UnsupportedError
from certifiers.deterministic import IBP, DeterministicCertifier
from certifiers.deterministic.base import MAX_EPS
from certifiers.radius_values import first_non_number, float64_not_above
from certifiers.registry import is_deterministic
from harness.certify import resolve_certifiers
from harness.config import Config
from harness.store import DeterministicRadiusRow, DeterministicRow, Store
from smoothbench.names import first_few

#: A rounding slack above this leaves a deterministic certifier few or no certificates
#: (``DeterministicCertifier.least_certified_margin``): the run says so.
LARGE_SLACK = 1e-2


class DeterministicSlackWarning(UserWarning):
    """A deterministic certifier's rounding slack on a model is so large (a deep network)
    that few or no images can certify: said once per model and certifier."""


class DeterministicSkipWarning(UserWarning):
    """A deterministic certifier cannot bound a model of the run (an unsupported layer,
    a TorchScript checkpoint, too many coefficients): it is skipped for that model and
    the reason recorded in the manifest (``deterministic_skipped``)."""


def training_bounds() -> VerifiedBounds:
    """The interval bounds that train the ``training = "ibp"`` models (float32, with
    gradients): the ``ibp`` certifier's ``margin_bounds``."""
    return IBP.for_training().margin_bounds


def deterministic_certifiers(
    names: Sequence[str], options: Mapping[str, Mapping[str, Any]] | None = None
) -> dict[str, DeterministicCertifier]:
    """The deterministic certifiers among ``names`` (``"all"``: every registered one)."""
    instances = resolve_certifiers(names, options)
    return {n: c for n, c in instances.items() if is_deterministic(c)}


def eps_grid(cfg: Config) -> tuple[float, ...]:
    """0 and the config's ``[report] radii.linf``, sorted."""
    return tuple(sorted({0.0, *cfg.report.grid("linf")}))


def certify_deterministic(
    store: Store,
    cfg: Config,
    models: Sequence[ModelEntry],
    data: Dataset,
    index_set: Sequence[int],
    device: torch.device,
    progress: bool = True,
) -> int:
    """Certify every image of ``index_set`` on every model with the config's
    deterministic certifiers; returns the number of images certified (skipping those
    already stored)."""
    chosen = deterministic_certifiers(cfg.certifiers, cfg.certifier_options)
    if not chosen:
        return 0
    # rows made with other options or another method version are dropped: every image is
    # certified again
    store.record_deterministic_options(
        {name: c.options() for name, c in chosen.items()},
        {name: type(c).method_version for name, c in chosen.items()},
    )
    grid = eps_grid(cfg)
    written = 0
    skipped: dict[str, dict[str, str]] = {}
    for entry in models:
        model = entry.model.to(device).eval()
        for name, certifier in chosen.items():
            for norm in (n for n in certifier.norms if n in cfg.norms):
                done = store.deterministic_done(entry.name, name, norm, grid)
                todo = [i for i in index_set if i not in done]
                bar = tqdm(
                    total=len(todo), desc=f"{entry.name} {name}", unit="img",
                    disable=not progress or not todo, mininterval=1.0,
                )  # fmt: skip
                try:
                    if todo:
                        _warn_of_a_large_slack(entry.name, model, name, certifier, data)
                    for start in range(0, len(todo), certifier.batch_size):
                        images = todo[start : start + certifier.batch_size]
                        _certify_batch(
                            store, entry.name, model, data, images, name, certifier, norm, grid
                        )
                        written += len(images)
                        bar.update(len(images))
                except UnsupportedError as err:
                    skipped.setdefault(entry.name, {})[name] = str(err)
                    warnings.warn(
                        f"{name} does not certify {entry.name}: {err}",
                        DeterministicSkipWarning,
                        stacklevel=2,
                    )
                finally:
                    bar.close()
    store.put_manifest({"deterministic_skipped": skipped})
    return written


def _warn_of_a_large_slack(
    model_name: str,
    model: torch.nn.Module,
    name: str,
    certifier: DeterministicCertifier,
    data: Dataset,
) -> None:
    slack = certifier.least_certified_margin(model, data.input_shape)
    if not slack <= LARGE_SLACK:  # NaN and inf too
        warnings.warn(
            f"{name} on {model_name}: a margin certifies only above {slack:.3g}, the "
            "rounding slack of this network (its absolute-value pass grows with every "
            "layer); expect few or no certificates",
            DeterministicSlackWarning,
            stacklevel=3,
        )


#: What a deterministic certifier returns per image: the dtype kinds allowed (``b`` bool,
#: ``i`` integer, ``f`` float) and the rule its values follow.
_PER_IMAGE = {
    "certified": ("b", "a bool per image (certified at this eps)", None),
    "prediction": ("i", "the model's class per image, an integer", None),
    "worst_margin": ("f", "the smallest margin bound per image, a float", None),
    "radii": (
        "if",
        "one largest certified eps per image, a real number >= 0, finite and never NaN",
        lambda t: bool(t.isfinite().all() and (t >= 0).all()),
    ),
}


def _as_tensor(value: object) -> Tensor | None:
    """``value`` as a CPU tensor (a float array as float64 values none above its own:
    ``float64_not_above``), or None where it is no array of numbers."""
    if isinstance(value, Tensor):
        t = value.detach().cpu()
        if t.is_floating_point() and t.dtype != torch.float64:  # rounded to nearest
            step = (t > 0) & t.isfinite()  # an infinite one stays infinite: refused
            t = torch.where(step, torch.nextafter(t, torch.zeros_like(t)), t).double()
        return t
    try:
        arr = np.asarray(value)
        if arr.dtype.kind != "b" and first_non_number(value) is not None:  # [True, 2]
            return None
        if arr.dtype.kind in "fO":  # a list's elements one by one
            arr = float64_not_above(value)
        elif arr.dtype.kind in "biu":  # native byte order, for torch
            arr = arr.astype(arr.dtype.newbyteorder("="), copy=False)
        else:
            return None
        return torch.from_numpy(np.ascontiguousarray(arr))
    except (TypeError, ValueError, RuntimeError):
        return None


def per_image(name: str, certifier: object, what: str, value: object, images: int) -> Tensor:
    """``value``, what a deterministic certifier returned as its ``what`` (``certified``,
    ``prediction``, ``worst_margin`` of ``certify``; ``radii`` of ``certified_radius``), as
    a CPU tensor, if it holds one value of the right kind per image (a tensor, an array or
    a list; a float other than float64 read as float64 not above it); else a
    ``ValueError`` naming the certifier, its module and the rule (a plugin's bug: exit
    code 2). A bool radius, or an infinite one clamped to the cap, would be stored as a
    certificate of the whole input cube."""
    kinds, rule, valid = _PER_IMAGE[what]
    t = _as_tensor(value)
    kind = None
    if t is not None:
        kind = (
            "b" if t.dtype == torch.bool
            else "f" if t.is_floating_point()
            else "i" if not t.is_complex()
            else None
        )  # fmt: skip
    if (
        kind is None
        or kind not in kinds
        or t.shape != (images,)
        or (valid and not valid(t.double()))
    ):
        got = (
            f"{type(value).__name__}"
            if t is None
            else f"{str(t.dtype).removeprefix('torch.')} of shape {tuple(t.shape)}"
            + (f" ({first_few([f'{float(v):g}' for v in t.flatten()])})" if kind else "")
        )
        raise ValueError(
            f"deterministic certifier {name!r} ({type(certifier).__module__}) returned {what} "
            f"as {got} for {images} images: {rule}"
        )
    return t


def _certify_batch(
    store: Store,
    model_name: str,
    model: torch.nn.Module,
    data: Dataset,
    images: Sequence[int],
    name: str,
    certifier: DeterministicCertifier,
    norm: str,
    grid: Sequence[float],
) -> None:
    pairs = [data[i] for i in images]
    x = torch.stack([p[0] for p in pairs])
    labels = torch.tensor([p[1] for p in pairs])
    rows: list[DeterministicRow] = []
    best = torch.zeros(len(images), dtype=torch.float64)
    prediction = None
    for eps in grid:
        t0 = time.perf_counter()
        result = certifier.certify(model, x, labels, eps, norm=norm)
        seconds = (time.perf_counter() - t0) / len(images)
        certified = per_image(name, certifier, "certified", result.certified, len(images))
        margin = per_image(name, certifier, "worst_margin", result.worst_margin, len(images))
        if prediction is None:
            prediction = per_image(name, certifier, "prediction", result.prediction, len(images))
        best = torch.where(certified, torch.as_tensor(eps, dtype=torch.float64), best)
        rows.extend(
            DeterministicRow(model_name, i, name, norm, eps, bool(certified[k]),
                             float(margin[k]), seconds)
            for k, i in enumerate(images)
        )  # fmt: skip
    t0 = time.perf_counter()
    radius = certifier.certified_radius(model, x, labels, norm=norm)
    seconds = (time.perf_counter() - t0) / len(images)
    radius = per_image(name, certifier, "radii", radius, len(images))
    radius = torch.maximum(radius.to(torch.float64), best).clamp(max=MAX_EPS)
    radii = [
        DeterministicRadiusRow(model_name, i, name, norm, int(labels[k]), int(prediction[k]),
                               float(radius[k]), seconds)
        for k, i in enumerate(images)
    ]  # fmt: skip
    store.put_deterministic(rows, radii)
