"""Benchmarks (pytest-benchmark): `tox -e benchmarks`, or
`pytest benchmarks -o python_files='bench_*.py'`. Speed targets live here, not in tests.

Each suite may add lines to ``SUMMARY``; they are printed at the end of the run.
"""

from __future__ import annotations

SUMMARY: list[str] = []


def pytest_terminal_summary(terminalreporter):
    if SUMMARY:
        terminalreporter.section("smoothbench benchmark summary")
        for line in SUMMARY:
            terminalreporter.write_line(line)
