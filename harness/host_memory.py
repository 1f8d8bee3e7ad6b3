"""Host memory a CPU forward pass can reuse: glibc's allocator told to keep what is freed.

glibc serves an allocation above its mmap threshold (128 KiB, raised on the fly up to
32 MiB) with a fresh ``mmap``, and gives it back to the kernel on ``free``. A forward pass
on the CPU allocates its activations anew at every batch, so every batch faults them in
again, page by page: on the CIFAR-shaped CNN of the benchmarks (1000 rows a batch, 65 MB
a convolution's output) 64,000 minor faults and about a tenth of a second of system time
a batch, 35-40 % of its forward pass (``benchmarks/bench_host_memory.py``).

``keep_freed_memory`` sets ``mallopt(M_MMAP_MAX, 0)`` (every allocation from the heap)
and ``mallopt(M_TRIM_THRESHOLD, 2^31 - 1)`` (up to 2 GiB of freed memory stays mapped),
so that from the second batch on the forward pass faults nothing. The price: the process
keeps its largest heap until it exits. It is process-wide, changes no number the run
computes, and works on glibc (Linux) only; elsewhere it does nothing and says so.
``smoothbench run`` applies it to the process that samples (``--no-keep-freed-memory``
to leave the allocator alone), and the run's manifest records the state.
"""

from __future__ import annotations

import argparse
import ctypes
import platform

M_TRIM_THRESHOLD = -1
M_MMAP_MAX = -4
#: The largest trim threshold ``mallopt`` takes (an ``int``).
TRIM_THRESHOLD = 2**31 - 1

_state = "glibc default"


def keep_freed_memory() -> str:
    """Tell glibc to keep freed memory for reuse (see the module docstring); returns the
    allocator's state, which ``host_memory_state`` reports from then on."""
    global _state
    if platform.libc_ver()[0] != "glibc":
        _state = f"unchanged: not glibc ({platform.system()})"
        return _state
    libc = ctypes.CDLL(None)
    ok = libc.mallopt(M_MMAP_MAX, 0) == 1 and libc.mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD) == 1
    _state = (
        f"glibc, freed memory kept (M_MMAP_MAX=0, M_TRIM_THRESHOLD={TRIM_THRESHOLD})"
        if ok
        else "unchanged: glibc refused mallopt"
    )
    return _state


def host_memory_state() -> str:
    """What this process's allocator does with freed memory, for the run manifest."""
    return _state


def add_keep_freed_memory_option(parser: argparse.ArgumentParser, why: str) -> None:
    """A command's ``--keep-freed-memory`` / ``--no-keep-freed-memory`` (default on), its
    help ending with ``why`` the command gains from it."""
    parser.add_argument(
        "--keep-freed-memory",
        action=argparse.BooleanOptionalAction,
        default=True,
        help=f"keep freed host memory for reuse (glibc; default on): {why}",
    )
