"""``Batch``'s shared row statistics against numpy in float64, across tile boundaries."""

from __future__ import annotations

import numpy as np
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.noise.batch import TILE_VALUES, Batch, Workspace


@settings(max_examples=25, deadline=None)
@given(
    rows=st.integers(1, 300),
    dim=st.sampled_from([1, 3, 64, 1000, TILE_VALUES // 7 + 1, TILE_VALUES + 5]),
    scale=st.sampled_from([1e-30, 1.0, 1e15]),
    seed=st.integers(0, 2**31 - 1),
)
def test_row_statistics_match_float64(rows, dim, scale, seed):
    rows = min(rows, max(1, 4 * TILE_VALUES // dim))  # several tiles, bounded memory
    G = torch.randn(rows, dim, generator=torch.Generator().manual_seed(seed)) * scale
    if dim >= 2:  # a tie for the largest |G_i| of row 0
        G[0, -1] = -G[0, :-1].abs().max()
    batch = Batch(G, Workspace())
    ref = G.numpy().astype(np.float64)
    want = np.einsum("ij,ij->i", ref, ref)
    np.testing.assert_allclose(batch.sq_norm().numpy(), want, rtol=1e-13, atol=0)
    np.testing.assert_array_equal(batch.linf_norm().numpy(), np.abs(ref).max(axis=1))


@settings(max_examples=50, deadline=None)
@given(sizes=st.lists(st.integers(1, 64), min_size=1, max_size=8))
def test_workspace_views_alias_one_allocation_as_it_grows(sizes):
    """Every view handed out under one name is a prefix of that name's current
    allocation, however the requests grew it (the host views of ``Batch.host_scratch``
    rely on it), and a device named as a string or as a torch.device is the same."""
    workspace = Workspace()
    for size in sizes:
        workspace.get("s", (size, 3), torch.float64, "cpu")
    largest = max(sizes)
    whole = workspace.get("s", (largest, 3), torch.float64, torch.device("cpu"))
    for size in sizes:
        view = workspace.get("s", (size, 3), torch.float64, "cpu")
        assert view.shape == (size, 3) and view.data_ptr() == whole.data_ptr()
    assert workspace.get("s", (1, 3), torch.float32, "cpu").dtype == torch.float32


def test_a_new_allocation_drops_the_tag_of_what_its_buffer_held():
    """Tags say what a buffer holds for callers that reuse its contents; a buffer grown
    into a new allocation holds nothing of it."""
    workspace = Workspace()
    workspace.get("held", (10,), torch.float64, torch.device("cpu"))
    workspace.tags["held"] = "chunk 3"
    workspace.get("held", (4,), torch.float64, torch.device("cpu"))  # a view of the same
    assert workspace.tags["held"] == "chunk 3"
    workspace.get("held", (11,), torch.float64, torch.device("cpu"))
    assert "held" not in workspace.tags
