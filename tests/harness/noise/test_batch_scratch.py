"""``Workspace`` and ``Batch`` scratch: a request of any size is served (growing the
allocation by as little as one value), and the numpy scratch of the transforms exists
exactly where the CPU path takes numpy's ufuncs, sharing the tensor's memory."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.noise import ufuncs
from harness.noise.batch import Batch, Workspace


@settings(max_examples=50, deadline=None)
@given(sizes=st.lists(st.integers(1, 200), min_size=1, max_size=10))
def test_every_request_gets_its_shape_however_the_allocation_grew(sizes):
    workspace = Workspace()
    for size in sizes + [max(sizes) + 1, max(sizes) + 2]:  # growth by one value
        view = workspace.get("s", (size,), torch.float64, "cpu")
        assert view.shape == (size,) and view.dtype == torch.float64
        view.fill_(float(size))  # the whole view is writable memory
        assert torch.all(view == size)


@pytest.mark.parametrize("use_numpy", [True, False])
def test_the_ufunc_scratch_follows_the_chosen_path(monkeypatch, use_numpy):
    monkeypatch.setattr(ufuncs, "USE_NUMPY_UFUNCS", use_numpy)
    batch = Batch(torch.zeros(7, 5))
    host = batch.ufunc_scratch("s", 7, torch.float32)
    if not use_numpy:
        assert host is None
        return
    assert isinstance(host, np.ndarray) and host.shape == (7, 5) and host.dtype == np.float32
    tensor = batch.scratch("s", 7, torch.float32)
    host[...] = np.arange(35, dtype=np.float32).reshape(7, 5)
    assert torch.equal(tensor, torch.arange(35, dtype=torch.float32).view(7, 5))
