"""The sampler against a raw forward pass of the same model on the same number of samples.

Three timings per (model, batch size), each over n = 20,000 samples of one input:

- ``forward``: the model alone on a preallocated batch (no noise drawn at all);
- ``naive``: the minimal hand-written Monte Carlo loop (randn into a buffer, add,
  forward, argmax, bincount) -- what any sampler must at least do;
- ``sampler``: ``harness.sample_counts`` (seeded chunked draws, validation, NaN check).

Overheads printed at the end: sampler / forward - 1 (includes drawing the noise, which
on a CPU costs about 0.2 ms per 64,000 normals) and sampler / naive - 1 (the harness's
own machinery). Target: overhead 5% or less at batch 1000 and above where the forward
pass dominates the draw.
"""

from __future__ import annotations

import pytest
import torch

from baselines.architectures import DigitsMLP
from benchmarks.conftest import SUMMARY
from harness import sample_counts
from harness.noise import Gaussian

N = 20_000
RESULTS: dict[tuple[str, int, str], float] = {}


def wide_mlp() -> torch.nn.Module:
    """A heavier base model on the same input (forward cost closer to a real CNN's)."""
    return torch.nn.Sequential(
        torch.nn.Flatten(), torch.nn.Linear(64, 1024), torch.nn.ReLU(),
        torch.nn.Linear(1024, 1024), torch.nn.ReLU(), torch.nn.Linear(1024, 10),
    )  # fmt: skip


MODELS = {"digits-mlp": DigitsMLP, "wide-mlp": wide_mlp}


def _setup(model_name: str):
    torch.manual_seed(0)
    model = MODELS[model_name]().eval()
    x = torch.rand(1, 8, 8)
    return model, x, Gaussian(0.25, 64)


def _forward(model, batch, n):
    buf = torch.rand(batch, 1, 8, 8)
    with torch.inference_mode():
        for start in range(0, n, batch):
            model(buf[: min(batch, n - start)]).argmax(1)


def _naive(model, x, batch, n, sigma=0.25):
    g = torch.Generator().manual_seed(0)
    noise = torch.empty(batch, 1, 8, 8)
    counts = torch.zeros(10, dtype=torch.int64)
    with torch.inference_mode():
        for start in range(0, n, batch):
            b = min(batch, n - start)
            torch.randn(noise[:b].shape, generator=g, out=noise[:b])
            noise[:b].mul_(sigma).add_(x)
            counts += torch.bincount(model(noise[:b]).argmax(1), minlength=10)
    return counts


def _record(benchmark, model_name, batch, kind):
    RESULTS[(model_name, batch, kind)] = benchmark.stats.stats.median
    have = {k for (m, b, k) in RESULTS if (m, b) == (model_name, batch)}
    if have == {"forward", "naive", "sampler"}:
        f, nv, s = (RESULTS[(model_name, batch, k)] for k in ("forward", "naive", "sampler"))
        SUMMARY.append(
            f"sampler {model_name:10s} batch {batch:6d}: forward {f * 1e3:7.1f} ms, "
            f"naive loop {nv * 1e3:7.1f} ms, sampler {s * 1e3:7.1f} ms; overhead vs forward "
            f"{100 * (s / f - 1):+5.1f}%, vs naive loop {100 * (s / nv - 1):+5.1f}%"
        )


PARAMS = [(m, b) for m in MODELS for b in (1000, 5000)]


@pytest.mark.parametrize("model_name,batch", PARAMS)
def test_forward(benchmark, model_name, batch):
    model, _, _ = _setup(model_name)
    benchmark.group = f"{model_name}-batch{batch}"
    benchmark.pedantic(_forward, args=(model, batch, N), rounds=7, warmup_rounds=1)
    _record(benchmark, model_name, batch, "forward")


@pytest.mark.parametrize("model_name,batch", PARAMS)
def test_naive(benchmark, model_name, batch):
    model, x, _ = _setup(model_name)
    benchmark.group = f"{model_name}-batch{batch}"
    benchmark.pedantic(_naive, args=(model, x, batch, N), rounds=7, warmup_rounds=1)
    _record(benchmark, model_name, batch, "naive")


@pytest.mark.parametrize("model_name,batch", PARAMS)
def test_sampler(benchmark, model_name, batch):
    model, x, noise = _setup(model_name)
    benchmark.group = f"{model_name}-batch{batch}"
    counts = benchmark.pedantic(
        sample_counts,
        args=(model, x, noise, N),
        kwargs={"seed": 0, "batch_size": batch},
        rounds=7,
        warmup_rounds=1,
    )
    assert counts.sum() == N
    _record(benchmark, model_name, batch, "sampler")
