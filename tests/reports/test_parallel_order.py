"""reports.parallel.run_all: results come back in task order even when the tasks finish
in another order."""

from __future__ import annotations

import time
from functools import partial

from reports.parallel import run_all


def _slow_first(i: int, n: int) -> int:
    time.sleep(0.05 * (n - i))  # the first task finishes last
    return i


def test_results_in_task_order_when_tasks_finish_out_of_order(monkeypatch):
    monkeypatch.setenv("SMOOTHBENCH_WORKERS", "2")
    n = 6
    assert run_all([partial(_slow_first, i, n) for i in range(n)]) == list(range(n))
