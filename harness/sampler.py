"""Monte Carlo class counts of a base classifier under smoothing noise.

Cohen et al. (2019), CERTIFY: ``n0`` selection draws choose the top class, ``n``
separate estimation draws count it. Counting streams batches through the model in
inference mode; memory is O(batch x d), never O(n x d). All noises evaluated on one
image transform the same base draws (``harness.draws``), so their outcomes are paired.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from harness.draws import ESTIMATION, SELECTION, DrawStream, resolve_device
from harness.noise import Noise


def _check_count(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise ValueError(f"{name} must be a positive int, got {value!r}")
    return int(value)


def _model_device(model: torch.nn.Module) -> torch.device | None:
    for tensor in model.parameters():
        return tensor.device
    return None


def count_predictions(
    model: torch.nn.Module,
    x: torch.Tensor,
    noises: Sequence[Noise],
    n: int,
    *,
    seed: int,
    index: int = 0,
    stream: int = ESTIMATION,
    batch_size: int = 1000,
    num_classes: int | None = None,
) -> np.ndarray:
    """Predicted-class counts of ``model`` on ``x + z`` for each noise; shape (noises, classes).

    Every noise transforms the same base draws of stream ``(seed, index, stream)``.
    The model runs on its own device (that of its parameters; the CPU for a
    parameter-free model) and is put in eval mode.
    """
    n = _check_count("n", n)
    batch_size = _check_count("batch_size", batch_size)
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"x must be a torch.Tensor, got {type(x).__name__}")
    if len(noises) == 0:
        raise ValueError("at least one noise is needed")
    dim = x.numel()
    for noise in noises:
        if not isinstance(noise, Noise):
            raise TypeError(f"noises must be harness.noise.Noise, got {type(noise).__name__}")
        if noise.dim != dim:
            raise ValueError(f"{noise.name} has dim {noise.dim} but the input has {dim} entries")
    device = _model_device(model) or resolve_device("cpu")
    model.eval()
    dtype = torch.float32
    x_flat = x.detach().to(device=device, dtype=dtype).reshape(dim)
    batch = min(batch_size, n)
    draws = DrawStream(seed, index, stream, dim, device=device, dtype=dtype)
    G = torch.empty(batch, dim, device=device, dtype=dtype)
    noisy = torch.empty(batch, dim, device=device, dtype=dtype)
    counts: torch.Tensor | None = None
    nan_rows = torch.zeros(len(noises), dtype=torch.int64, device=device)
    with torch.inference_mode():
        for start in range(0, n, batch):
            b = min(batch, n - start)
            draws.fill(G[:b], start)
            for i, noise in enumerate(noises):
                noise.perturb(x_flat, G[:b], out=noisy[:b])
                logits = _forward(model, noisy[:b].view(b, *x.shape))
                if counts is None:
                    classes = logits.shape[1] if num_classes is None else num_classes
                    if logits.shape[1] != classes:
                        raise ValueError(
                            f"model returns {logits.shape[1]} logits, expected {classes}"
                        )
                    counts = torch.zeros(len(noises), classes, dtype=torch.int64, device=device)
                # Accumulated on the device and checked once per noise at the end, so a
                # GPU never waits on the host inside the loop.
                nan_rows[i] += torch.isnan(logits).any(dim=1).sum()
                counts[i] += torch.bincount(logits.argmax(dim=1), minlength=counts.shape[1])
    assert counts is not None
    bad = nan_rows.cpu().numpy()
    for i, noise in enumerate(noises):
        if bad[i]:
            raise ValueError(
                f"model returned NaN logits for {bad[i]} of {n} noisy inputs under "
                f"{noise.name} (image {index})"
            )
    return counts.cpu().numpy()


def _forward(model: torch.nn.Module, inputs: torch.Tensor) -> torch.Tensor:
    try:
        logits = model(inputs)
    except (RuntimeError, ValueError) as err:
        raise ValueError(
            f"the model rejected inputs of shape {tuple(inputs.shape)} "
            f"(one input of shape {tuple(inputs.shape[1:])} per row): {err}"
        ) from err
    if not isinstance(logits, torch.Tensor) or logits.ndim != 2:
        raise ValueError("the model must return logits of shape (batch, num_classes)")
    return logits


def sample_counts(
    model: torch.nn.Module,
    x: torch.Tensor,
    noise: Noise,
    n: int,
    *,
    seed: int,
    batch_size: int = 1000,
    index: int = 0,
    stream: int = ESTIMATION,
) -> np.ndarray:
    """The model's predicted-class counts over ``n`` noisy copies of one input ``x``.

    Returns a numpy int64 array of shape (num_classes,). ``x`` has the shape the model
    takes for one input; the batch is built inside.
    """
    return count_predictions(
        model, x, [noise], n, seed=seed, index=index, stream=stream, batch_size=batch_size
    )[0]


@dataclass(frozen=True)
class CertifyCounts:
    """Selection counts (n0 draws) and estimation counts (n draws), one row per noise."""

    selection: np.ndarray
    estimation: np.ndarray


def certify_counts(
    model: torch.nn.Module,
    x: torch.Tensor,
    noises: Sequence[Noise],
    n0: int,
    n: int,
    *,
    seed: int,
    index: int,
    batch_size: int = 1000,
) -> CertifyCounts:
    """Cohen et al.'s CERTIFY sampling: selection and estimation counts on separate streams."""
    _check_count("n0", n0)
    selection = count_predictions(
        model, x, noises, n0, seed=seed, index=index, stream=SELECTION, batch_size=batch_size
    )
    estimation = count_predictions(
        model,
        x,
        noises,
        n,
        seed=seed,
        index=index,
        stream=ESTIMATION,
        batch_size=batch_size,
        num_classes=selection.shape[1],
    )
    return CertifyCounts(selection=selection, estimation=estimation)
