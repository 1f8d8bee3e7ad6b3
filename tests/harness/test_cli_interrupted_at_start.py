"""Ctrl-C in the first second or two of a command, while it imports torch, printed a
traceback: the entry point's ``from harness.cli import main`` imported torch (through
``harness/__init__``), before ``main`` could catch anything. Now the entry point imports
nothing heavy and ``main`` imports the commands inside its handling.

Property: a command interrupted while torch is being imported ends with one line and exit
code 130, whenever the interrupt comes."""

from __future__ import annotations

import subprocess
import sys
import textwrap

# What the ``smoothbench`` console script does, with Ctrl-C sent the moment torch starts
# to import (an import hook, so the interrupt lands there every time). The process starts
# as one from a terminal does: SIGINT delivered and raised as KeyboardInterrupt, whatever
# the test process it was started from had made of it.
SCRIPT = textwrap.dedent(
    """
    import importlib.abc, os, signal, sys

    signal.pthread_sigmask(signal.SIG_UNBLOCK, [signal.SIGINT])
    signal.signal(signal.SIGINT, signal.default_int_handler)

    class InterruptAtTorch(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name == "torch":
                sys.meta_path.remove(self)
                print("torch starts to import", flush=True)
                os.kill(os.getpid(), signal.SIGINT)
            return None

    sys.meta_path.insert(0, InterruptAtTorch())
    from harness.cli import main
    sys.exit(main(["list"]))
    """
)


def test_ctrl_c_while_torch_imports_ends_with_one_line():
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=120
    )
    assert done.stdout.startswith("torch starts to import"), done.stdout[-2000:]
    assert "Traceback" not in done.stderr, done.stderr[-2000:]
    assert done.returncode == 130, (done.returncode, done.stderr[-2000:])
    assert done.stderr.strip() == "smoothbench: interrupted"


def test_the_entry_point_imports_no_torch():
    probe = "import sys, harness.cli; print('torch' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"
