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


#: A report process whose two workers each write their pid, then sleep in their tasks.
_KILLED_PARENT = """
import os, sys, time
from functools import partial
from reports.parallel import run_all

def task(folder, i):
    open(os.path.join(folder, f"{os.getpid()}.pid"), "w").close()
    time.sleep(120)

run_all([partial(task, sys.argv[1], i) for i in range(2)])
"""


def _alive(pid: int) -> bool:
    """Running (a zombie, ended but not yet reaped by its new parent, is not)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


@pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="reads /proc (Linux)")
def test_the_workers_of_a_killed_report_end(tmp_path):
    """kill -9 of a report left its forked workers running, for good."""
    import contextlib
    import signal
    import subprocess
    import sys
    import time
    from pathlib import Path

    root = str(Path(__file__).resolve().parents[2])  # the checkout, whatever the cwd
    env = {**os.environ, "SMOOTHBENCH_WORKERS": "2", "PYTHONPATH": root}
    parent = subprocess.Popen([sys.executable, "-c", _KILLED_PARENT, str(tmp_path)], env=env)
    try:
        deadline = time.monotonic() + 60
        while len(list(tmp_path.glob("*.pid"))) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        pids = [int(p.stem) for p in tmp_path.glob("*.pid")]
        assert len(pids) == 2 and all(_alive(pid) for pid in pids)
    finally:
        parent.send_signal(signal.SIGKILL)
        parent.wait()
    deadline = time.monotonic() + 10
    while any(_alive(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.1)
    left = [pid for pid in pids if _alive(pid)]
    for pid in left:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    assert not left, f"workers {left} outlived their killed parent"
