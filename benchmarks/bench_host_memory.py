"""Freed host memory kept (``harness.host_memory``) against glibc's default.

The forward pass of the CIFAR-shaped CNN of ``bench_sampler`` over 10,000 inputs in
batches of 1000, in a fresh process per allocator setting (the setting is process-wide),
one torch thread: its time (the thread's CPU time, system time included) and its minor
page faults, after one warm-up pass. With glibc's default every batch faults its
activations in again; with freed memory kept, none.

    pytest benchmarks/bench_host_memory.py -o python_files='bench_*.py' -p no:cacheprovider
"""

from __future__ import annotations

import pytest

from benchmarks.conftest import SUMMARY, run_in_fresh_process

_SCRIPT = """
import json, resource, sys, time, torch
from benchmarks.bench_sampler import cifar_cnn
from harness.host_memory import keep_freed_memory
torch.set_num_threads(1)
if sys.argv[1] == "kept":
    keep_freed_memory()
torch.manual_seed(0)
model = cifar_cnn().eval()
inputs = torch.rand(10_000, 3, 32, 32)
def forward():
    with torch.inference_mode():
        for i in range(0, 10_000, 1000):
            model(inputs[i : i + 1000]).argmax(dim=1)
forward()
times, faults = [], []
for _ in range(int(sys.argv[2])):
    before = resource.getrusage(resource.RUSAGE_THREAD).ru_minflt
    start = time.thread_time()
    forward()
    times.append(time.thread_time() - start)
    faults.append(resource.getrusage(resource.RUSAGE_THREAD).ru_minflt - before)
print(json.dumps({"seconds": min(times), "faults": min(faults)}))
"""


@pytest.mark.parametrize("mode", ["default", "kept"])
def test_forward_pass_with_freed_memory_kept(benchmark, mode):
    result: dict[str, float] = {}
    benchmark.group = "host-memory"
    benchmark.pedantic(
        lambda: result.update(run_in_fresh_process(_SCRIPT, mode, 3)), rounds=1, iterations=1
    )
    benchmark.extra_info.update(result)
    SUMMARY.append(
        f"host memory {mode:7s}: CNN forward over 10,000 inputs {result['seconds'] * 1e3:7.1f} ms"
        f" (best of 3), {int(result['faults'])} minor page faults"
    )
