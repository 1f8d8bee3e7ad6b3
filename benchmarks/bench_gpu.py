"""(5) On a GPU: samples per second and seconds per image of the sampler for Cohen et
al.'s CIFAR-10 ResNet-110 (He et al. 2016, 1.7M parameters, its normalization layer
first; random weights: ``baselines.architectures``) at n = 100,000 (plus
n0 = 100 selection draws), in fp32 and with a bf16 autocast of the forward pass (the
noise stays float32), with and without channels_last; against the anchor of Cohen et
al. (2019): 15 s per CIFAR-10 image with ResNet-110 on an RTX 2080 Ti, about 6,700
noisy samples a second. The batch size is the sampler's choice for the device's memory.

Skips without CUDA.

    pytest benchmarks/bench_gpu.py -o python_files='bench_*.py'
"""

from __future__ import annotations

import time

import pytest
import torch

from baselines.architectures import build
from benchmarks.conftest import SUMMARY
from harness.noise import Gaussian
from harness.noise.batch import Workspace
from harness.sampler import SamplerOptions, auto_batch_size, certify_counts, prepare_model

ANCHOR_SAMPLES_PER_SECOND = 100_000 / 15.0
N0, N = 100, 100_000

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")


VARIANTS = {
    "fp32": SamplerOptions(),
    "bf16": SamplerOptions(autocast="bf16"),
    "fp32-channels_last": SamplerOptions(channels_last=True),
    "bf16-channels_last": SamplerOptions(autocast="bf16", channels_last=True),
}


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_resnet110_samples_per_second(benchmark, variant):
    options = VARIANTS[variant]
    torch.manual_seed(0)
    model = prepare_model(build("cifar_resnet110").cuda(), options, 3)
    x = torch.rand(3, 32, 32)
    noise = Gaussian(0.25, 3072)
    batch = auto_batch_size(model, x, N, options)
    workspace = Workspace()
    certify_counts(model, x, [noise], N0, 2 * batch, seed=0, index=0, batch_size=batch,
                   options=options, workspace=workspace)  # fmt: skip
    seconds: list[float] = []

    def one_image() -> None:
        torch.cuda.synchronize()
        start = time.perf_counter()
        certify_counts(model, x, [noise], N0, N, seed=0, index=1, batch_size=batch,
                       options=options, workspace=workspace)  # fmt: skip
        torch.cuda.synchronize()
        seconds.append(time.perf_counter() - start)

    benchmark.group = "resnet110"
    benchmark.pedantic(one_image, rounds=3, warmup_rounds=0, iterations=1)
    per_image = min(seconds)
    rate = (N0 + N) / per_image
    benchmark.extra_info.update({"seconds_per_image": per_image, "samples_per_second": rate,
                                 "batch_size": batch})  # fmt: skip
    SUMMARY.append(
        f"ResNet-110 {variant:20s} ({torch.cuda.get_device_name(0)}, batch {batch}): "
        f"{rate:,.0f} samples/s, {per_image:.2f} s per image at n = {N:,} "
        f"({rate / ANCHOR_SAMPLES_PER_SECOND:.1f}x Cohen et al.'s 6,700/s on an RTX 2080 Ti)"
    )
