"""``reports.parallel.run_all``: results in task order, in worker processes or in this
one, and a progress bar on a terminal only."""

from __future__ import annotations

import io
import os
from functools import partial

import pytest

from reports.parallel import run_all


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def _pid_and(value: int) -> tuple[int, int]:
    return os.getpid(), value * value


@pytest.mark.parametrize("workers", ["1", "2"])
def test_results_come_in_task_order_with_a_bar_on_a_terminal(workers, monkeypatch):
    monkeypatch.setenv("SMOOTHBENCH_WORKERS", workers)
    terminal = Terminal()
    monkeypatch.setattr("sys.stderr", terminal)
    tasks = [partial(_pid_and, v) for v in range(7)]
    done = run_all(tasks, desc="squares")
    assert [v for _, v in done] == [v * v for v in range(7)]
    pids = {pid for pid, _ in done}
    assert (os.getpid() in pids) == (workers == "1")
    shown = terminal.getvalue()
    assert "squares" in shown and "/7 " in shown  # tqdm redraws at most every 0.1 s


def test_no_bar_off_a_terminal_nor_without_a_description(monkeypatch):
    piped = io.StringIO()
    monkeypatch.setattr("sys.stderr", piped)
    assert run_all([partial(_pid_and, 3)], desc="squares")[0][1] == 9
    monkeypatch.setattr("sys.stderr", terminal := Terminal())
    assert run_all([partial(_pid_and, 3)])[0][1] == 9
    assert piped.getvalue() == "" and terminal.getvalue() == ""
