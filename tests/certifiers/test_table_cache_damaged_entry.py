"""A damaged radius-table cache entry is rebuilt, as ``cached_table`` promises ("a
corrupt cache entry is rebuilt, never trusted"), whatever the damage: the table then
equals one built afresh with no cache."""

from __future__ import annotations

import numpy as np
import pytest

from certifiers import tables

P = np.array([0.55, 0.7, 0.9, 0.99])
R = np.array([0.05, 0.2, 0.6, 1.1])
KEY = {"certifier": "test", "family": "damaged-entry"}


def damaged(blob: bytes, how: str) -> bytes:
    if how == "truncated":
        return blob[: len(blob) // 2]
    if how == "empty":
        return b""
    if how == "header byte flipped":
        return blob[:30] + bytes([blob[30] ^ 1]) + blob[31:]
    assert how == "data byte flipped"  # the CRC of the member catches it
    return blob[:-30] + bytes([blob[-30] ^ 1]) + blob[-29:]


@pytest.mark.parametrize("how", ["truncated", "empty", "header byte flipped", "data byte flipped"])
def test_a_damaged_entry_is_rebuilt(tmp_path, monkeypatch, how):
    monkeypatch.setenv("SMOOTHBENCH_CACHE", str(tmp_path))
    monkeypatch.setattr(tables, "_MEMORY", {})
    tables.cached_table(KEY, lambda: (P, R))
    (path,) = (tmp_path / "tables").glob("*.npz")
    path.write_bytes(damaged(path.read_bytes(), how))
    monkeypatch.setattr(tables, "_MEMORY", {})  # a new process
    table = tables.cached_table(KEY, lambda: (P, R))
    fresh = tables.RadiusTable(P, R)
    probe = np.linspace(0.5, 1.0, 101)
    np.testing.assert_array_equal(table(probe), fresh(probe))
    # and the entry on disk is whole again
    np.testing.assert_array_equal(tables.RadiusTable.load(path)(probe), fresh(probe))
