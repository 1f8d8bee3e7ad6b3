"""The quick statistical audit (every smoothing certifier on every supported noise and
norm at dim 3, ``StatisticalSettings.quick()``) on one thread, with the certifiers'
tables already built: ``smoothbench audit --quick`` must stay well under a minute, the
run it audits and the attack included.

    python -m pytest benchmarks/bench_audit.py -o python_files='bench_*.py'
"""

from __future__ import annotations

from benchmarks.conftest import SUMMARY
from harness.audit.statistical import StatisticalSettings, run_statistical_audit

#: seconds on one thread, tables built (the first call builds them, minutes at most once)
TARGET_SECONDS = 20.0


def test_quick_statistical_audit(benchmark, one_thread):
    settings = StatisticalSettings.quick()
    run_statistical_audit(settings, progress=False)  # build and cache the tables
    results = benchmark.pedantic(
        run_statistical_audit, args=(settings,), kwargs={"progress": False}, rounds=2
    )
    seconds = benchmark.stats.stats.mean
    SUMMARY.append(f"quick statistical audit: {len(results)} cells in {seconds:.1f} s")
    assert seconds < TARGET_SECONDS
