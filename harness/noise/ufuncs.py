"""Whether the CPU's elementwise math goes through numpy's ufuncs or torch's kernels.

The base draws (float64 ``log``, float32 ``cos`` and ``sin``) and the coordinate-wise
transforms (float32 ``log`` and ``expm1``) are elementwise math over every value of a
batch, a large share of the sampler's time beside a small model. Which library is the
faster depends on the CPU, because numpy vectorizes these loops only for some targets:

- on an AVX512 CPU numpy runs its own SIMD loops. On one (torch 2.14) they took float32
  ``log`` at 0.40 ns a value against torch's 1.03, float32 ``expm1`` at 0.41 against
  torch's 8.9 (one thread), and the draws' float64 ``log`` with float32 ``cos`` and
  ``sin`` at about twice torch's speed. On another, a Xeon (torch 2.11), ``expm1`` took
  0.56 against torch's 2.35 (the Pareto transform 0.79x of torch's time), while torch's
  ``log`` and ``cos`` were the faster (the draws and the Laplace transforms 1.07-1.10x of
  torch's time);
- on an AVX2 CPU (an EPYC, torch 2.14) numpy's float64 ``log``, ``expm1`` and ``log1p``
  are the C library's scalar loops (numpy's dispatch reports the baseline target), and
  torch's kernels win everywhere: ``expm1`` 2.65 against 18.4 ns, float32 ``log`` 1.90
  against 2.65, float64 ``log`` 2.2x faster, float32 ``cos`` and ``sin`` 1.27x faster
  (the draws 0.85-0.88x of numpy's time, the Pareto transform about half).

The choice is made once, from numpy's own report of the loops it dispatches
(``numpy.lib.introspect.opt_func_info``), never from a timing: the same machine always
takes the same path, so its runs are reproducible. Both paths are within the bounds the
draws and the transforms state; a value may differ between them in its last bits.
"""

from __future__ import annotations

import torch

#: The loops the CPU paths take from numpy, as (ufunc, numpy type character).
LOOPS = (("log", "d"), ("log", "f"), ("expm1", "f"), ("cos", "f"), ("sin", "f"))


def numpy_loops_on_avx512(loops: tuple[tuple[str, str], ...] = LOOPS) -> bool:
    """Whether numpy dispatches every loop of ``loops`` to an AVX512 target here
    (``X86_V4`` in numpy 2.4's names, ``AVX512_*`` before). Without numpy's dispatch
    report (numpy < 2.1), ``False``: torch's kernels."""
    try:
        from numpy.lib.introspect import opt_func_info
    except ImportError:
        return False
    for name, kind in loops:
        found = opt_func_info(func_name=f"^{name}$").get(name, {})
        current = found.get(kind * 2, {}).get("current", "")
        if "X86_V4" not in current and "AVX512" not in current:
            return False
    return True


#: Whether the CPU paths take numpy's ufuncs (else torch's kernels): where numpy runs all
#: of ``LOOPS`` on AVX512 (see the module docstring). Read at call time, so that a test
#: can take either path on any machine.
USE_NUMPY_UFUNCS = numpy_loops_on_avx512()


def math_path(device: torch.device) -> str:
    """The manifest's name for the elementwise math that sampling on ``device`` takes."""
    if device.type == "cpu" and USE_NUMPY_UFUNCS:
        return "numpy ufuncs (AVX512)"
    return "torch kernels"
