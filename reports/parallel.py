"""Independent pieces of a report (the sanity checks, each leaderboard's plots) run on
the machine's cores: forked worker processes that inherit the data in memory, so nothing
is pickled on the way in; results come back pickled. On a terminal a progress bar counts
the tasks done.

``SMOOTHBENCH_WORKERS`` sets the number of processes (default: the CPU count, at most 4;
1 runs everything in this process). A worker ends itself once this process is gone
(killed, say). Where ``fork`` is not available (Windows, or a
platform that only spawns) everything runs in this process.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from typing import TypeVar

from tqdm import tqdm

T = TypeVar("T")
_TASKS: list[Callable[[], object]] = []


def workers() -> int:
    """The number of worker processes to use."""
    env = os.environ.get("SMOOTHBENCH_WORKERS")
    if env:
        try:
            return max(1, int(env))
        except ValueError:
            raise ValueError(f"SMOOTHBENCH_WORKERS must be an integer, got {env!r}") from None
    return max(1, min(4, os.cpu_count() or 1))


def _init(parent: int) -> None:
    import torch

    torch.set_num_threads(1)  # one thread a worker: no OpenMP pool inherited across fork
    threading.Thread(target=_end_with, args=(parent,), daemon=True).start()


def _end_with(parent: int) -> None:
    """End this worker once the process that forked it is gone (killed: a forked worker
    holds the task queue's write end too, so it never sees the end of its input, and
    stayed, with its share of the report's memory, for good)."""
    while os.getppid() == parent:
        time.sleep(0.5)
    os._exit(1)


def _run(i: int) -> object:
    return _TASKS[i]()


def run_all(tasks: Sequence[Callable[[], T]], desc: str | None = None) -> list[T]:
    """``[task() for task in tasks]``, in parallel where it helps; results in order. With
    ``desc``, a progress bar of the tasks done is shown on a terminal (``tqdm``; nothing
    where stderr is not one)."""
    global _TASKS
    bar = tqdm(
        total=len(tasks), desc=desc, unit="task", disable=None if desc else True, leave=False
    )
    n = min(len(tasks), workers())
    with bar:
        if n < 2 or "fork" not in mp.get_all_start_methods():
            done = []
            for task in tasks:
                done.append(task())
                bar.update()
            return done
        _TASKS = list(tasks)
        try:
            ctx = mp.get_context("fork")
            with ProcessPoolExecutor(
                n, mp_context=ctx, initializer=_init, initargs=(os.getpid(),)
            ) as pool:
                futures = [pool.submit(_run, i) for i in range(len(tasks))]
                for _ in as_completed(futures):
                    bar.update()
                return [f.result() for f in futures]
        finally:
            _TASKS = []
