"""``keep_freed_memory``: a batch's activations are reused without page faults."""

from __future__ import annotations

import platform
import subprocess
import sys

import pytest

# a convolution over a CIFAR-sized batch (65 MB of output, above glibc's largest dynamic
# mmap threshold), three times; print the minor page faults of the last round
_SCRIPT = """
import resource, sys, torch
from harness.host_memory import host_memory_state, keep_freed_memory
if sys.argv[1] == "keep":
    keep_freed_memory()
conv, x = torch.nn.Conv2d(3, 16, 3, padding=1), torch.rand(1000, 3, 32, 32)
with torch.inference_mode():
    for _ in range(3):
        before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        conv(x).relu_().sum()
        after = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
print(after - before, host_memory_state(), sep=";")
"""
_PAGES = 1000 * 16 * 32 * 32 * 4 // 4096


def _last_round(mode: str) -> tuple[int, str]:
    """The page faults of the last batch and the allocator's state, in a fresh process
    (the setting is process-wide)."""
    done = subprocess.run(
        [sys.executable, "-c", _SCRIPT, mode], capture_output=True, text=True, check=True
    )
    faults, state = done.stdout.strip().split(";")
    return int(faults), state


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="mallopt is glibc's")
def test_kept_memory_is_reused_without_page_faults():
    kept, state = _last_round("keep")
    assert state.startswith("glibc, freed memory kept"), state
    assert kept < _PAGES // 100, f"{kept} page faults in a batch after the first two"
    default, state = _last_round("default")
    assert state == "glibc default"
    # the control: glibc's default unmaps the output, so every batch faults it in again
    # (with transparent huge pages for anonymous maps, once per 2 MiB page)
    assert default >= _PAGES // 512 and default > 4 * kept, (default, kept)
