"""``numpy_loops_on_avx512`` from numpy's dispatch report, built here independently of
``ufuncs.LOOPS``: the CPU paths take numpy's ufuncs only where every loop they run
(float64 ``log``; float32 ``log``, ``expm1``, ``cos``, ``sin``) is on an AVX512 target."""

from __future__ import annotations

import numpy.lib.introspect
import pytest

from harness.noise.ufuncs import numpy_loops_on_avx512

NEEDED = {"log": ("dd", "ff"), "expm1": ("ff",), "cos": ("ff",), "sin": ("ff",)}


def _report(target_of):
    """A dispatch report giving every loop of every ufunc the target ``target_of(name,
    signature)``."""

    def opt_func_info(func_name):
        name = func_name.strip("^$")
        sigs = ("dd", "ff", "ee", "gg")
        return {name: {s: {"current": target_of(name, s), "available": "baseline"} for s in sigs}}

    return opt_func_info


@pytest.mark.parametrize("old_name", ["AVX2", "AVX", "FMA3__AVX2"])
def test_numpy_2_1_to_2_3_avx2_names_are_not_avx512(monkeypatch, old_name):
    """numpy before 2.4 names targets ``AVX2``, ``FMA3__AVX2``, ``AVX512F``, ``AVX512_SKX``:
    only the ``AVX512`` ones count."""
    monkeypatch.setattr(numpy.lib.introspect, "opt_func_info", _report(lambda n, s: old_name))
    assert numpy_loops_on_avx512() is False


@pytest.mark.parametrize("slow", [(name, sig) for name, sigs in NEEDED.items() for sig in sigs])
def test_each_needed_loop_on_a_baseline_target_takes_torch_s_kernels(monkeypatch, slow):
    """One loop the CPU paths run (e.g. float32 ``expm1``, most of the Pareto transform)
    left on the baseline target is enough to take torch's kernels."""
    report = _report(lambda n, s: "baseline(X86_V2)" if (n, s) == slow else "X86_V4")
    monkeypatch.setattr(numpy.lib.introspect, "opt_func_info", report)
    assert numpy_loops_on_avx512() is False


def test_every_needed_loop_on_avx512_takes_numpy_s(monkeypatch):
    monkeypatch.setattr(numpy.lib.introspect, "opt_func_info", _report(lambda n, s: "AVX512_SKX"))
    assert numpy_loops_on_avx512() is True
