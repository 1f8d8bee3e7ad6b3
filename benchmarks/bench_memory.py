"""(4) Peak memory does not grow with n: the sampler streams batches through buffers
allocated once, so counting 10x more samples needs no more memory.

Each n runs in a fresh process (CIFAR-shaped inputs, d = 3072, a linear model, Gaussian
and mixed-norm noise, batches of 1000) that resets the peak of its resident memory
(Linux's ``clear_refs``) after the imports and a first tiny count, then counts and
reports the peak's growth over the memory it started from; on a GPU, also
``torch.cuda.max_memory_allocated``. Target: the growth is the same for n = 20,000 and
n = 200,000 (within 5% + 8 MiB).

    pytest benchmarks/bench_memory.py -o python_files='bench_*.py'
"""

from __future__ import annotations

import pytest
import torch

from benchmarks.conftest import SUMMARY, run_in_fresh_process

PROBE = r"""
import json, sys, torch
torch.set_num_threads(1)
from harness.noise import Gaussian, MixedNorm
from harness.draws import ESTIMATION
from harness.sampler import count_predictions


def status(key):
    for line in open("/proc/self/status"):
        if line.startswith(key):
            return int(line.split()[1])


n, device = int(sys.argv[1]), sys.argv[2]
model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(3072, 10)).to(device)
noises = [Gaussian(0.25, 3072), MixedNorm.matched(0.25, 3072, k=8.0)]
x = torch.rand(3, 32, 32)
# imports, tables
count_predictions(model, x, noises, 10, seed=0, batch_size=10, index=0, stream=ESTIMATION)
with open("/proc/self/clear_refs", "w") as f:  # the peak (VmHWM) restarts from here
    f.write("5")
before = status("VmRSS:")
counts = count_predictions(
    model, x, noises, n, seed=0, batch_size=1000, index=0, stream=ESTIMATION
)
assert counts.sum() == 2 * n
gpu = torch.cuda.max_memory_allocated() if device == "cuda" else 0
print(json.dumps({"before_kib": before, "after_kib": status("VmHWM:"), "gpu_bytes": gpu}))
"""


@pytest.mark.parametrize("device", ["cpu", "cuda"])
def test_peak_memory_is_independent_of_n(benchmark, device):
    if device == "cuda" and not torch.cuda.is_available():
        pytest.skip("no CUDA device here; the CPU case runs")
    small, large = 20_000, 200_000
    peaks = {}

    def measure() -> None:
        peaks[small] = run_in_fresh_process(PROBE, small, device)
        peaks[large] = run_in_fresh_process(PROBE, large, device)

    benchmark.group = "peak-memory"
    benchmark.pedantic(measure, rounds=1, iterations=1)
    growth = {n: (p["after_kib"] - p["before_kib"]) / 1024 for n, p in peaks.items()}
    benchmark.extra_info.update({"growth_mib": growth})
    ok = growth[large] <= 1.05 * growth[small] + 8
    line = (
        f"peak memory ({device}, d = 3072, 2 noises, batch 1000): peak growth while counting "
        f"{growth[small]:.0f} MiB at n = {small:,}, {growth[large]:.0f} MiB at n = {large:,} "
        f"({'independent of n' if ok else 'GROWS with n'})"
    )
    if device == "cuda":
        line += (
            f"; GPU peak {peaks[small]['gpu_bytes'] / 2**20:.0f} / "
            f"{peaks[large]['gpu_bytes'] / 2**20:.0f} MiB"
        )
    SUMMARY.append(line)
    assert ok, line
