"""Ctrl-C while ``run --executor ray`` starts its local Ray cluster (the first seconds of a
run) left Ray's DashboardAgent and RuntimeEnvAgent processes running (about 200 MB each,
for a minute or more): a ``ray.init`` cut half-way had not registered the node that
``ray.shutdown`` stops. Now Ctrl-C and SIGTERM wait for ``ray.init`` to return, and the
cluster is shut down before the run stops.

Property: a run stopped by Ctrl-C leaves no process of the cluster it started behind."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time

SCRIPT = textwrap.dedent(
    """
    import os, signal, sys
    import ray._private.services as services

    # a process from a terminal: SIGINT raised as KeyboardInterrupt (a test process
    # started in the background inherits it ignored)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, [signal.SIGINT])
    signal.signal(signal.SIGINT, signal.default_int_handler)
    from harness.executors.ray_executor import RayExecutor

    real = services.get_node
    def get_node(*args, **kwargs):  # the node's processes are up: Ctrl-C now
        os.kill(os.getpid(), signal.SIGINT)
        return real(*args, **kwargs)
    services.get_node = get_node

    exe = RayExecutor()
    try:
        exe.device(None)  # starts the local cluster, as `smoothbench run --executor ray`
    except KeyboardInterrupt:
        print("interrupted", flush=True)
    finally:
        services.get_node = real
        exe.close()
    """
)


def _agents() -> set[int]:
    out = subprocess.run(["ps", "-eo", "pid=,args="], capture_output=True, text=True).stdout
    return {
        int(line.split(None, 1)[0])
        for line in out.splitlines()
        if "ray::DashboardAgent" in line or "ray::RuntimeEnvAgent" in line
    }


def test_ctrl_c_while_ray_starts_leaves_no_ray_process(tmp_path):
    before = _agents()
    # the leak is a race: before the fix it showed in 1 of 2 runs here without
    # OMP_NUM_THREADS=1 and in none with it, so the start runs without it, as a user's does
    env = {k: v for k, v in os.environ.items() if k != "OMP_NUM_THREADS"}
    done = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True,
                          timeout=120, env=env)  # fmt: skip
    assert done.stdout.strip() == "interrupted", (done.stdout, done.stderr[-2000:])
    time.sleep(5)  # a clean ray.shutdown stops them at once
    left = _agents() - before
    try:
        assert not left, f"Ray processes left running after the stopped start: {sorted(left)}"
    finally:
        for pid in left:  # the ones this test made
            try:
                os.kill(pid, 9)
            except ProcessLookupError:
                pass
