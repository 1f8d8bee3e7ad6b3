"""(5) On a GPU: samples per second and seconds per image of the sampler for Cohen et
al.'s CIFAR-10 ResNet-110 (He et al. 2016, 1.7M parameters, its normalization layer
first; random weights: ``baselines.architectures``) at n = 100,000 (plus
n0 = 100 selection draws), in fp32 and with a bf16 autocast of the forward pass (the
noise stays float32), with and without channels_last, and compiled (``torch.compile`` as
``smoothbench run`` uses it: with torch's automatic dynamic shapes the second batch size
seen recompiles the graph once with a symbolic batch dimension, which every later batch
reuses; one untimed image of the same n0 and n compiles every shape before the rounds,
the last partial batch's included); against the anchor of Cohen et
al. (2019): 15 s per CIFAR-10 image with ResNet-110 on an RTX 2080 Ti, about 6,700
noisy samples a second. The batch size is the sampler's choice for the device's memory.

(1) on the GPU: for every noise family, the sampler (``count_predictions``, one noise,
n = 20,000) against the forward pass of the same ResNet-110 over 20,000 noisy inputs of
that noise already on the device, in the same batches, as a ratio (the median of the
rounds' ratios), with the shares of the exact base draws and of the family's transform
beside it, as in ``bench_sampler``.

Skips without CUDA.

    pytest benchmarks/bench_gpu.py -o python_files='bench_*.py'
"""

from __future__ import annotations

import statistics
import time
from functools import partial

import pytest
import torch

from baselines.architectures import build
from benchmarks.bench_sampler import _forward, _share, drop_warmup, member
from benchmarks.conftest import SUMMARY
from harness.draws import ESTIMATION, DrawStream
from harness.noise import Gaussian, noise_families
from harness.noise.batch import Batch, Workspace
from harness.sampler import (
    SamplerOptions,
    auto_batch_size,
    certify_counts,
    count_predictions,
    prepare_model,
)

ANCHOR_SAMPLES_PER_SECOND = 100_000 / 15.0
N0, N = 100, 100_000
N_RATIO = 20_000

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")


VARIANTS = {
    "fp32": SamplerOptions(),
    "bf16": SamplerOptions(autocast="bf16"),
    "fp32-channels_last": SamplerOptions(channels_last=True),
    "bf16-channels_last": SamplerOptions(autocast="bf16", channels_last=True),
    "fp32-channels_last-compile": SamplerOptions(channels_last=True, compile=True),
    "bf16-channels_last-compile": SamplerOptions(autocast="bf16", channels_last=True, compile=True),
}


def _timed(work) -> float:
    """Seconds of ``work()`` on the GPU, the queue drained before and after."""
    torch.cuda.synchronize()
    start = time.perf_counter()
    work()
    torch.cuda.synchronize()
    return time.perf_counter() - start


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_resnet110_samples_per_second(benchmark, variant):
    options = VARIANTS[variant]
    torch.manual_seed(0)
    model = prepare_model(build("cifar_resnet110").cuda(), options, 3)
    x = torch.rand(3, 32, 32)
    noise = Gaussian(0.25, 3072)
    batch = auto_batch_size(model, x, N, options)
    workspace = Workspace()
    # untimed: compiles every batch shape the rounds will see
    certify_counts(model, x, [noise], N0, N, seed=0, index=0, batch_size=batch,
                   options=options, workspace=workspace)  # fmt: skip
    seconds: list[float] = []

    def one_image() -> None:
        seconds.append(_timed(lambda: certify_counts(
            model, x, [noise], N0, N, seed=0, index=1, batch_size=batch, options=options,
            workspace=workspace)))  # fmt: skip

    benchmark.group = "resnet110"
    benchmark.pedantic(one_image, rounds=3, warmup_rounds=0, iterations=1)
    per_image = statistics.median(seconds)
    rate = (N0 + N) / per_image
    benchmark.extra_info.update({"seconds_per_image": per_image, "samples_per_second": rate,
                                 "seconds_range": [min(seconds), max(seconds)],
                                 "batch_size": batch})  # fmt: skip
    SUMMARY.append(
        f"ResNet-110 {variant:20s} ({torch.cuda.get_device_name(0)}, batch {batch}): "
        f"{rate:,.0f} samples/s, {per_image:.2f} s per image [{min(seconds):.2f}, "
        f"{max(seconds):.2f}] at n = {N:,}, the median of 3 rounds "
        f"({rate / ANCHOR_SAMPLES_PER_SECOND:.1f}x Cohen et al.'s 6,700/s on an RTX 2080 Ti)"
    )


@pytest.fixture(scope="module")
def resnet110() -> torch.nn.Module:
    torch.manual_seed(0)
    return prepare_model(build("cifar_resnet110").cuda(), SamplerOptions(), 3)


@pytest.mark.parametrize("family", noise_families())
def test_resnet110_sampler_against_the_forward_pass(benchmark, resnet110, family):
    model, device = resnet110, torch.device("cuda")
    x = torch.rand(3, 32, 32, generator=torch.Generator().manual_seed(1))
    dim = x.numel()
    noise = member(family, dim)
    noise.prepare(device)
    batch = auto_batch_size(model, x, N_RATIO)
    flat_x = x.reshape(-1).to(device)
    G = DrawStream(9, 0, ESTIMATION, dim, device=device).rows(0, N_RATIO)
    noisy = noise.transform(G).add_(flat_x)
    batches = [noisy[i : i + batch].view(-1, 3, 32, 32) for i in range(0, N_RATIO, batch)]
    workspace, transform_workspace = Workspace(), Workspace()
    draws = DrawStream(0, 7, ESTIMATION, dim, device=device, workspace=workspace)
    rows = torch.empty(batch, dim, device=device)
    times: dict[str, list[float]] = {"forward": [], "sampler": [], "draws": [], "transform": []}

    forward = partial(_forward, model, batches)

    def sampler() -> None:
        count_predictions(model, x, [noise], N_RATIO, seed=0, index=7, stream=ESTIMATION,
                          batch_size=batch, workspace=workspace)  # fmt: skip

    def draw() -> None:
        for first in range(0, N_RATIO, batch):
            draws.fill(rows[: min(batch, N_RATIO - first)], first)

    def transform() -> None:
        for first in range(0, N_RATIO, batch):
            drawn = G[first : first + batch]
            noise.perturb(flat_x, Batch(drawn, transform_workspace), rows[: drawn.shape[0]])

    def one_round() -> None:
        for name, work in (("forward", forward), ("sampler", sampler), ("draws", draw),
                           ("transform", transform)):  # fmt: skip
            times[name].append(_timed(work))

    benchmark.group = "resnet110-ratio"
    benchmark.pedantic(one_round, rounds=3, warmup_rounds=1, iterations=1)
    drop_warmup(times, 3)
    ratio = _share(times["sampler"], times["forward"])
    shares = {part: _share(times[part], times["forward"]) for part in ("draws", "transform")}
    forward_s = statistics.median(times["forward"])
    benchmark.extra_info.update({"ratio": ratio, "forward_s": forward_s, "batch_size": batch,
                                 **{f"{k}_share": v for k, v in shares.items()}})  # fmt: skip
    SUMMARY.append(
        f"ResNet-110 sampler {family:21s} forward {forward_s * 1e3:7.1f} ms for {N_RATIO:,} noisy "
        f"inputs (batch {batch}): sampler {ratio:.3f}x; draws {shares['draws']:.3f} + "
        f"transform {shares['transform']:.3f} of the forward pass"
    )
