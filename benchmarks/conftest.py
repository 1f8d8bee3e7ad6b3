"""Benchmarks (pytest-benchmark): `tox -e benchmarks`, or
`pytest benchmarks -o python_files='bench_*.py'`. Speed targets live here, not in tests.

Each suite may add lines to ``SUMMARY``; they are printed at the end of the run, after a
line naming the device, the torch version, the thread counts and the host allocator
(printed on every run).

The session keeps freed host memory (``harness.host_memory``), as ``smoothbench run``
does, so that the forward passes measured are those of a run;
``SMOOTHBENCH_BENCH_ALLOCATOR=default`` measures under glibc's default instead.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys

import pytest
import torch

from harness.host_memory import host_memory_state, keep_freed_memory

SUMMARY: list[str] = []


#: torch's thread count when the session starts, before any ``one_thread`` fixture
DEFAULT_THREADS = torch.get_num_threads()


def machine_line() -> str:
    """Where the numbers come from: the tests with the ``one_thread`` fixture (the
    sampler, radii, sharing, architecture, functional, deterministic and audit suites)
    run on one torch thread, the others on the session's default."""
    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "no GPU"
    return (
        f"machine: {platform.processor() or platform.machine()}, {gpu}; torch "
        f"{torch.__version__}; torch threads: 1 in the suites with the one_thread fixture, "
        f"{DEFAULT_THREADS} elsewhere; host allocator: {host_memory_state()}"
    )


def run_in_fresh_process(script: str, *args: object) -> dict:
    """Run ``script`` (Python source) in a new interpreter with one OpenMP thread and
    return the JSON object on the last line it prints (for measurements that a process
    setting, or a process's peak memory, would otherwise leak between cases)."""
    done = subprocess.run(
        [sys.executable, "-c", script, *map(str, args)],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def pytest_sessionstart(session):
    if os.environ.get("SMOOTHBENCH_BENCH_ALLOCATOR", "kept") != "default":
        keep_freed_memory()


@pytest.fixture
def one_thread():
    """One torch thread for the test (targets are per CPU core), restored afterwards."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def pytest_terminal_summary(terminalreporter):
    terminalreporter.section("smoothbench benchmark summary")
    terminalreporter.write_line(machine_line())
    for line in SUMMARY:
        terminalreporter.write_line(line)
