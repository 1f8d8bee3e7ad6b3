"""``harness.noise.source``: the digest of a plugin family's code is the sha256 of its
file's bytes (what stores recorded before bases were digested too), changes with any
file of the plugin its class is made of, and reads a class without a file (a notebook
cell, which IPython keeps in ``linecache``) through ``inspect.getsource``."""

from __future__ import annotations

import hashlib
import linecache
import sys
import textwrap
import types

from harness.noise import Gaussian
from harness.noise.source import SOURCE_NOT_FOUND, is_plugin, source_digest

CELL = textwrap.dedent(
    """
    class CellGaussian(Gaussian):
        scale = {scale}
    """
)


def _cell_class(scale: float, name: str, monkeypatch) -> type:
    """A class as a Jupyter cell makes it: its module's file (``/tmp/ipykernel_<pid>/<hash>
    .py``) is not on disk, its text is in ``linecache`` only."""
    text = CELL.format(scale=scale)
    linecache.cache[name] = (len(text), None, text.splitlines(True), name)
    cell = types.ModuleType("cellmodule")
    cell.__file__ = name
    cell.Gaussian = Gaussian
    monkeypatch.setitem(sys.modules, "cellmodule", cell)
    exec(compile(text, name, "exec"), cell.__dict__)
    return cell.CellGaussian


def test_a_one_file_plugin_is_digested_as_its_files_bytes(tmp_path):
    from tests.harness import test_noise_source_digest as here

    assert is_plugin(here.PluginGaussian) and not is_plugin(Gaussian)
    expected = hashlib.sha256(open(here.__file__, "rb").read()).hexdigest()
    assert source_digest(here.PluginGaussian) == expected


def test_a_class_without_a_file_is_read_from_its_cell_and_changes_with_it(monkeypatch):
    names = [f"/nonexistent/ipykernel_4242/{n}.py" for n in (1, 2, 3)]
    try:
        first = source_digest(_cell_class(0.5, names[0], monkeypatch))
        again = source_digest(_cell_class(0.5, names[1], monkeypatch))
        edited = source_digest(_cell_class(1.0, names[2], monkeypatch))
    finally:
        for name in names:
            linecache.cache.pop(name, None)
    assert SOURCE_NOT_FOUND not in (first, again, edited)
    assert first == again != edited


def test_a_class_whose_text_is_nowhere_has_no_digest():
    namespace = {"Gaussian": Gaussian, "__name__": "nowhere"}
    exec(compile(CELL.format(scale=1.0), "<no such cell>", "exec"), namespace)
    assert source_digest(namespace["CellGaussian"]) == SOURCE_NOT_FOUND


class PluginGaussian(Gaussian):
    """A class defined outside the package: a plugin's, for the digest."""


def test_a_class_of_a_module_without_a_file_is_read_from_its_methods_cell(monkeypatch):
    """Jupyter runs cells in ``__main__``, which names no file: the cell is found through
    the file name its methods were compiled under."""
    name = "/nonexistent/ipykernel_4242/methods.py"
    texts = [
        CELL.format(scale=s) + "\n    def width(self):\n        return self.scale\n" for s in (1, 2)
    ]
    digests = []
    try:
        for text in texts:
            linecache.cache[name] = (len(text), None, text.splitlines(True), name)
            cell = types.ModuleType("filelesscell")  # no __file__
            cell.Gaussian = Gaussian
            monkeypatch.setitem(sys.modules, "filelesscell", cell)
            exec(compile(text, name, "exec"), cell.__dict__)
            digests.append(source_digest(cell.CellGaussian))
    finally:
        linecache.cache.pop(name, None)
    assert SOURCE_NOT_FOUND not in digests and digests[0] != digests[1]
