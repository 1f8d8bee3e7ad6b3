"""A small store of counts written directly (no model, no sampling), for the store's tests."""

from __future__ import annotations

import numpy as np

from harness.store import CountRow, Store

SPEC = {"family": "gaussian", "params": {"sigma": 0.5, "dim": 4}}


def counts_store(path, images: int = 40) -> None:
    """``images`` images of model ``m`` under noise ``g`` (n0 = 10, n = 100), label
    ``image % 3``, the counts of every image the same."""
    with Store(path) as st:
        st.put_manifest({"n0": 10, "n": 100, "seed": 0, "dataset": "digits"})
        st.put_noises({"g": SPEC})
        st.put_counts(
            CountRow("m", "g", i, i % 3, np.array([10, 0, 0]), np.array([90, 6, 4]), 0.1)
            for i in range(images)
        )
