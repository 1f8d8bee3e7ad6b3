"""A check, before a run samples with a noise, that ``perturb(x, G, out)`` writes
``x + transform(G)`` into ``out``: the sampler reads ``out`` alone, so a family (a plugin)
whose ``perturb`` or ``transform`` leaves ``out`` unwritten, or writes something else,
would be counted on stale buffer contents, with no error, and certified as if it were
the noise. Rows enough to cross a CPU tile, on the run's device, against ``transform`` of
the same draws; the conformance kit (``harness.noise.testing.check_noise``, its ``perturb``
property) checks more batch sizes, and the rest of the family."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

from harness.noise.base import Noise
from harness.noise.batch import TILE_VALUES, Batch, Workspace

ROWS = 4
#: The agreement asked of the fused path and ``x + transform(G)``, relative to the size of
#: the terms: float32 rounding of a few operations, far below any wrong write.
RELATIVE_TOLERANCE = 1e-4


def preflight_rows(dim: int) -> int:
    """Rows enough to cross a CPU tile of the transforms (``harness.noise.batch``), where
    a family that works tile by tile could go wrong, and at least ``ROWS``."""
    return max(ROWS, TILE_VALUES // dim + 3)


def check_perturb(
    noise: Noise,
    device: torch.device | str = "cpu",
    dtype: torch.dtype = torch.float32,
    rows: int | None = None,
    as_batch: bool = True,
) -> None:
    """``ValueError`` naming the noise where ``perturb`` does not write ``x +
    transform(G)`` into ``out`` (and return it) for ``rows`` (default
    ``preflight_rows(dim)``) seeded rows of base draws on ``device``, given as a ``Batch``
    (as the sampler does) or as a tensor, ``out`` filled with NaN beforehand.
    ``noise.prepare(device)`` is the caller's (the sampler's) to have done."""
    rows = preflight_rows(noise.dim) if rows is None else rows
    generator = torch.Generator().manual_seed(0)
    G = torch.randn(rows, noise.dim, generator=generator, dtype=dtype).to(device)
    x = torch.rand(noise.dim, generator=generator, dtype=dtype).to(device)
    expected = _named(noise, "transform(G)", lambda: noise.transform(G.clone()), G.shape)
    if not isinstance(expected, torch.Tensor) or tuple(expected.shape) != tuple(G.shape):
        got = tuple(expected.shape) if isinstance(expected, torch.Tensor) else type(expected)
        raise ValueError(
            f"noise {noise.name}: transform returned {got} for base draws of shape "
            f"{tuple(G.shape)}; it must return (rows, dim) samples"
        )
    out = torch.full_like(G, float("nan"))
    draws = Batch(G.clone(), Workspace()) if as_batch else G.clone()
    got = _named(noise, "perturb(x, G, out)", lambda: noise.perturb(x, draws, out=out), G.shape)
    want = x + expected.to(dtype)
    finite = torch.isfinite(want)  # a non-finite sample is the sampler's to refuse
    problem = None
    if got is not out:
        problem = "it returned another tensor than out"
    elif torch.isnan(out[finite]).any():
        problem = "it left out unwritten (NaN) where it should hold x + transform(G)"
    else:
        error = (out - want)[finite].abs()
        size = (x.abs() + expected.abs().to(dtype))[finite]
        if not (error <= RELATIVE_TOLERANCE * size + 1e-30).all():
            problem = f"out differs from x + transform(G) (by up to {float(error.max()):.3g})"
    if problem is not None:
        raise ValueError(
            f"noise {noise.name}: perturb(x, G, out) must write x + transform(G) into out "
            f"and return it; {problem}. The sampler reads out: check the family with "
            "harness.noise.testing.check_noise"
        )


def _named(noise: Noise, call: str, run: Callable[[], Any], shape: torch.Size) -> Any:
    """``run()``; where the noise's family is a plugin's, an error it raises (a transform
    that writes the wrong shape, say) becomes a ``ValueError`` naming the noise and the
    call. A built-in family's error, and running out of memory, stay what they are (an
    internal error, or the device's)."""
    if type(noise).__module__.startswith("harness."):
        return run()
    try:
        return run()
    except (MemoryError, torch.cuda.OutOfMemoryError):
        raise
    except Exception as err:
        raise ValueError(
            f"noise {noise.name}: {call} failed on base draws of shape {tuple(shape)}: "
            f"{type(err).__name__}: {err}"
        ) from err
