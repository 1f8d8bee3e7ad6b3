"""The disk cache of radius tables serves a table only to the code that built it: the key
holds a digest of the source that computes tables, so an edited or upgraded certifier or
noise law, or another version of the libraries that compute them, rebuilds its tables
instead of reusing ones that may certify too much."""

from __future__ import annotations

import numpy as np
import pytest

from certifiers import tables


def _tree(root, files: dict[str, str]):
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def test_the_digest_follows_every_file_and_its_place(tmp_path):
    files = {"a.py": "R = 1\n", "sub/b.py": "def f():\n    return 2\n", "notes.txt": "x"}
    one = tables.tree_digest([_tree(tmp_path / "one", files)])
    assert tables.tree_digest([_tree(tmp_path / "two", files)]) == one
    edited = {**files, "sub/b.py": "def f():\n    return 3\n"}
    assert tables.tree_digest([_tree(tmp_path / "edited", edited)]) != one
    added = {**files, "c.py": ""}
    assert tables.tree_digest([_tree(tmp_path / "added", added)]) != one
    moved = {"b.py": files["a.py"], "sub/b.py": files["sub/b.py"]}
    assert tables.tree_digest([_tree(tmp_path / "moved", moved)]) != one
    prose = {**files, "notes.txt": "y"}  # only Python source counts
    assert tables.tree_digest([_tree(tmp_path / "prose", prose)]) == one


def test_the_installed_sources_are_digested():
    assert tables.source_digest() == tables.source_digest()
    assert len(tables.source_digest()) == 24
    assert tables.source_digest() != tables.tree_digest([])


def test_a_table_is_rebuilt_when_the_source_changes(monkeypatch):
    builds = []

    def build():
        builds.append(1)
        return np.array([0.6, 0.9]), np.array([0.1, float(len(builds))])

    key = {"family": "test-only", "dim": 3, "version": 1}
    for digest, expected_builds in (("code-a", 1), ("code-a", 1), ("code-b", 2), ("code-a", 2)):
        monkeypatch.setattr(tables, "source_digest", lambda digest=digest: digest)
        monkeypatch.setattr(tables, "_MEMORY", {})  # a new process: only the disk cache
        table = tables.cached_table(key, build)
        assert len(builds) == expected_builds
    # code-a's table came back from disk, the one built first
    assert table(0.95) == pytest.approx(1.0)


def test_a_table_is_rebuilt_when_a_library_changes(monkeypatch):
    """scipy's quantiles and special functions compute the tables: another scipy (or
    numpy, or torch) builds its own."""
    builds = []

    def build():
        builds.append(1)
        return np.array([0.6, 0.9]), np.array([0.1, float(len(builds))])

    key = {"family": "test-only-libraries", "dim": 3, "version": 1}
    installed = tables.library_versions()
    assert set(installed) == {"numpy", "scipy", "torch"}
    assert installed["scipy"] == __import__("scipy").__version__
    for scipy, expected_builds in (("1.0", 1), ("1.0", 1), ("2.0", 2), ("1.0", 2)):
        versions = {**installed, "scipy": scipy}
        monkeypatch.setattr(tables, "library_versions", lambda versions=versions: versions)
        monkeypatch.setattr(tables, "_MEMORY", {})
        table = tables.cached_table(key, build)
        assert len(builds) == expected_builds
    assert table(0.95) == pytest.approx(1.0)
