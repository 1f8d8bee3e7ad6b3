"""(4) Peak memory does not grow with n: the sampler streams batches through buffers
allocated once, so counting more samples needs no more memory.

Each n runs in a fresh process (a linear model, Gaussian and mixed-norm noise, batches of
1000) that resets the peak of its resident memory (Linux's ``clear_refs``) after the
imports and a first tiny count, then counts and reports the peak's growth over the memory
it started from; on a GPU, also ``torch.cuda.max_memory_allocated`` (its peak reset after
that first count). The process keeps freed host memory, as ``smoothbench run`` does.
Two shapes: CIFAR's (d = 3072, n = 20,000 and 200,000), where the buffers are large, and
a tiny one (d = 16, n = 10^7 and 6 x 10^7, a minute in all), where so many more samples
are cheap, so that memory kept per sample would show. From the small n to the large the
growth may rise by at most 5% plus 4 MiB (CIFAR) or 16 MiB (tiny: the peak there varies
by about 10 MiB from run to run, with the allocator's layout); a leak of half a byte a
sample (24 MiB over the tiny shape's extra 5 x 10^7 samples) exceeds it. The same bound
holds for the GPU peak.

    pytest benchmarks/bench_memory.py -o python_files='bench_*.py'
"""

from __future__ import annotations

import pytest
import torch

from benchmarks.conftest import SUMMARY, run_in_fresh_process

PROBE = r"""
import json, sys, torch
torch.set_num_threads(1)
from harness.host_memory import keep_freed_memory
keep_freed_memory()  # as `smoothbench run` does
from harness.noise import Gaussian, MixedNorm
from harness.draws import ESTIMATION
from harness.sampler import count_predictions


def status(key):
    for line in open("/proc/self/status"):
        if line.startswith(key):
            return int(line.split()[1])


n, device = int(sys.argv[1]), sys.argv[2]
shape = tuple(int(s) for s in sys.argv[3].split(","))
dim = shape[0] * shape[1] * shape[2]
model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(dim, 10)).to(device)
noises = [Gaussian(0.25, dim), MixedNorm.matched(0.25, dim, k=8.0)]
x = torch.rand(*shape)
# imports, tables
count_predictions(model, x, noises, 10, seed=0, batch_size=10, index=0, stream=ESTIMATION)
if device == "cuda":
    torch.cuda.reset_peak_memory_stats()
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


#: shape, small n, large n, allowed rise of the peak growth in MiB (besides 5%)
SHAPES = {
    "cifar": ((3, 32, 32), 20_000, 200_000, 4.0),
    "tiny": ((1, 4, 4), 10_000_000, 60_000_000, 16.0),
}


def within(small: float, large: float, slack: float) -> bool:
    """The growth at the large n is at most ``slack`` MiB + 5% above the small n's."""
    return large <= 1.05 * small + slack


@pytest.mark.parametrize("shape", list(SHAPES))
@pytest.mark.parametrize("device", ["cpu", "cuda"])
def test_peak_memory_is_independent_of_n(benchmark, device, shape):
    if device == "cuda" and not torch.cuda.is_available():
        pytest.skip("no CUDA device here; the CPU case runs")
    dims, small, large, slack = SHAPES[shape]
    peaks = {}

    def measure() -> None:
        for n in (small, large):
            peaks[n] = run_in_fresh_process(PROBE, n, device, ",".join(map(str, dims)))

    benchmark.group = "peak-memory"
    benchmark.pedantic(measure, rounds=1, iterations=1)
    growth = {n: (p["after_kib"] - p["before_kib"]) / 1024 for n, p in peaks.items()}
    gpu = {n: p["gpu_bytes"] / 2**20 for n, p in peaks.items()}
    benchmark.extra_info.update({"growth_mib": growth, "gpu_peak_mib": gpu})
    ok = within(growth[small], growth[large], slack)
    if device == "cuda":
        ok = ok and within(gpu[small], gpu[large], slack)
    dim = dims[0] * dims[1] * dims[2]
    line = (
        f"peak memory ({device}, d = {dim}, 2 noises, batch 1000): peak growth while counting "
        f"{growth[small]:.1f} MiB at n = {small:,}, {growth[large]:.1f} MiB at n = {large:,}"
    )
    if device == "cuda":
        line += f"; GPU peak {gpu[small]:.0f} / {gpu[large]:.0f} MiB"
    line += f" ({'independent of n' if ok else 'GROWS with n'})"
    SUMMARY.append(line)
    assert ok, line
