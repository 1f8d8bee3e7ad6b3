"""Inputs per second of the deterministic certifiers on the digits MLP (64-256-256-10)
and on a small CNN at CIFAR-10's size.

    python -m pytest benchmarks/bench_deterministic.py -o python_files='bench_*.py'

One thread (``torch.set_num_threads(1)``), the 360 digits test images in one call, an
untrained MLP (the cost does not depend on the weights): ``certify`` at one eps, and
``certified_radius`` (bisection, 16 steps plus the two ends). Each row records
``inputs_per_second`` (from the median time; the cores are shared) in ``extra_info`` and
a line in the summary.
"""

from __future__ import annotations

import pytest
import torch

import certifiers
from baselines.architectures import build
from baselines.datasets import load_digits
from benchmarks.conftest import SUMMARY

CASES = [("ibp", {}), ("crown", {}), ("crown", {"intermediate": "crown", "batch_size": 64})]


@pytest.fixture(scope="module")
def one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def digits():
    data = load_digits()
    torch.manual_seed(0)
    model = build("mlp").eval()
    return model, data.images[data.test_indices], data.labels[data.test_indices]


@pytest.fixture(scope="module")
def cifar_cnn():
    """The small CNN of the CROWN-IBP experiments at CIFAR-10's size (3x32x32): two
    stride-2 convolutions (16 and 32 channels), 100 hidden units; 32 random inputs."""
    torch.manual_seed(0)
    model = torch.nn.Sequential(
        torch.nn.Conv2d(3, 16, 4, stride=2, padding=1), torch.nn.ReLU(),
        torch.nn.Conv2d(16, 32, 4, stride=2, padding=1), torch.nn.ReLU(),
        torch.nn.Flatten(), torch.nn.Linear(32 * 8 * 8, 100), torch.nn.ReLU(),
        torch.nn.Linear(100, 10),
    ).eval()  # fmt: skip
    x = torch.rand(32, 3, 32, 32, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        return model, x, model(x).argmax(1)


def _rate(benchmark, certifier, model, x, y, what: str) -> float:
    if what == "certify":
        result = benchmark.pedantic(certifier.certify, (model, x, y, 0.01), rounds=5)
        assert result.certified.shape == y.shape
    else:
        radius = benchmark.pedantic(certifier.certified_radius, (model, x, y), rounds=1)
        assert (radius >= 0).all()
    rate = len(y) / benchmark.stats["median"]
    benchmark.extra_info["inputs_per_second"] = rate
    return rate


@pytest.mark.parametrize("what", ["certify", "certified_radius"])
@pytest.mark.parametrize("name,options", CASES, ids=["ibp", "crown", "crown-full"])
def test_inputs_per_second(benchmark, one_thread, digits, name, options, what):
    rate = _rate(benchmark, certifiers.get(name, **options), *digits, what)
    label = f"{name}{'-full' if options.get('intermediate') == 'crown' else ''}"
    SUMMARY.append(f"{label} {what}: {rate:,.0f} inputs/s (digits MLP, 1 thread)")


@pytest.mark.parametrize("what", ["certify", "certified_radius"])
@pytest.mark.parametrize("name", ["ibp", "crown"])
def test_inputs_per_second_cifar_cnn(benchmark, one_thread, cifar_cnn, name, what):
    rate = _rate(benchmark, certifiers.get(name), *cifar_cnn, what)
    SUMMARY.append(f"{name} {what}: {rate:,.1f} inputs/s (CIFAR-size CNN, 1 thread)")
