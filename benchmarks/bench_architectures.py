"""Forward throughput of the baselines' networks on the CPU, one thread: noisy samples per
second through Cohen et al.'s CIFAR ResNet-110 (random weights) in the sampler's batch
loop, and the count of one certified image at n = 1,000 (with n0 = 100).

    python -m pytest benchmarks/bench_architectures.py -o python_files='bench_*.py'

Cohen et al.'s protocol draws n0 + n = 100,100 samples per image and noise, so the
seconds per image at their n are about 100,100 / (samples per second).
"""

from __future__ import annotations

import pytest
import torch

from baselines.architectures import build
from benchmarks.conftest import SUMMARY
from harness.noise import Gaussian
from harness.sampler import certify_counts


@pytest.fixture(scope="module", autouse=True)
def _one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def resnet110():
    torch.manual_seed(0)
    return build("cifar_resnet110").eval()


@pytest.mark.parametrize("batch", [100, 400])
def test_resnet110_forward_samples_per_second(benchmark, resnet110, batch):
    x = torch.rand(batch, 3, 32, 32)

    def forward():
        with torch.inference_mode():
            return resnet110(x)

    benchmark.pedantic(forward, rounds=3, warmup_rounds=1)
    rate = batch / benchmark.stats["median"]
    benchmark.extra_info["samples_per_second"] = rate
    SUMMARY.append(f"ResNet-110 forward, batch {batch}, 1 thread: {rate:,.0f} samples/s")


def test_resnet110_certify_counts_one_image(benchmark, resnet110):
    x = torch.rand(3, 32, 32, generator=torch.Generator().manual_seed(1))
    noise = Gaussian(0.25, 3072)

    def one_image():
        return certify_counts(resnet110, x, [noise], 100, 1000, seed=0, index=0, batch_size=400)

    counts = benchmark.pedantic(one_image, rounds=2, warmup_rounds=0)
    assert counts.estimation.sum() == 1000
    seconds = benchmark.stats["median"]
    benchmark.extra_info["seconds_per_image"] = seconds
    SUMMARY.append(f"ResNet-110, one image, n0 = 100, n = 1,000, 1 thread: {seconds:.1f} s")
