import numpy.lib.introspect
import pytest
import torch

from harness.draws import DrawStream
from harness.noise import ufuncs
from harness.noise.ufuncs import LOOPS, numpy_loops_on_avx512
from harness.provenance import provenance


def _report(targets):
    """numpy's dispatch report, in ``opt_func_info``'s shape, with one target a loop."""

    def opt_func_info(func_name):
        name = func_name.strip("^$")
        return {
            name: {
                kind * 2: {"current": target, "available": f"{target} baseline"}
                for (loop, kind), target in zip(LOOPS, targets, strict=True)
                if loop == name
            }
        }

    return opt_func_info


@pytest.mark.parametrize(
    ("targets", "expected"),
    [
        (["X86_V4"] * len(LOOPS), True),  # numpy 2.4's name for AVX512 (Skylake-X)
        (["AVX512_SKX"] * len(LOOPS), True),  # numpy 2.1-2.3's
        (["X86_V4"] * (len(LOOPS) - 1) + ["X86_V3"], False),  # one loop on AVX2
        (["X86_V4", "X86_V4", "baseline(X86_V2)", "X86_V4", "X86_V4"], False),  # scalar expm1
        (["X86_V3"] * len(LOOPS), False),
    ],
)
def test_numpy_ufuncs_only_where_every_loop_is_on_avx512(monkeypatch, targets, expected):
    monkeypatch.setattr(numpy.lib.introspect, "opt_func_info", _report(targets))
    assert numpy_loops_on_avx512() is expected


def test_without_numpy_s_dispatch_report_torch_s_kernels(monkeypatch):
    monkeypatch.delattr(numpy.lib.introspect, "opt_func_info")
    assert numpy_loops_on_avx512() is False


@pytest.mark.parametrize("use_numpy", [True, False])
def test_the_manifest_names_the_path_the_draws_take(monkeypatch, use_numpy):
    monkeypatch.setattr(ufuncs, "USE_NUMPY_UFUNCS", use_numpy)
    named = provenance(torch.device("cpu"))["elementwise_math"]
    assert ("numpy" in named) is DrawStream(0, 0, 0, 64)._host_math is use_numpy
    assert ufuncs.math_path(torch.device("cuda")) == "torch kernels"  # a GPU's draws: torch
