"""Smoothbench's foundation modules.

* ``atomic_path``: an interrupt (Ctrl-C, ``KeyboardInterrupt``, not an ``Exception``)
  keeps the old file and leaves no temporary; the temporary lives in the target's own
  folder (``os.replace`` is atomic only within one file system), and writing into a
  folder that does not exist yet creates it.
* ``cache_dir``: ``$XDG_CACHE_HOME/smoothbench`` (the module docstring).
* ``first_few``: ``a, b, c, and 4 more``, and no "and 0 more".
"""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smoothbench.atomic import atomic_path, write_atomic
from smoothbench.cache import cache_dir
from smoothbench.names import first_few


def test_an_interrupted_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path):
    target = tmp_path / "store.json"
    write_atomic(target, "good\n")
    with pytest.raises(KeyboardInterrupt), atomic_path(target) as tmp:
        tmp.write_text("half")
        raise KeyboardInterrupt
    assert target.read_text() == "good\n"
    assert [p.name for p in tmp_path.iterdir()] == ["store.json"]


def test_the_temporary_sits_beside_the_target_in_a_new_folder(tmp_path):
    target = tmp_path / "new" / "deeper" / "table.tsv"
    with atomic_path(target) as tmp:
        assert tmp.parent == target.parent and tmp != target
        assert not target.exists()  # nothing in place until the block succeeds
        tmp.write_text("a\tb\n")
    assert target.read_text() == "a\tb\n"
    assert [p.name for p in target.parent.iterdir()] == ["table.tsv"]


def test_the_cache_is_a_smoothbench_folder_under_xdg_cache_home(tmp_path, monkeypatch):
    monkeypatch.delenv("SMOOTHBENCH_CACHE", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert cache_dir("models") == tmp_path / "smoothbench" / "models"
    assert (tmp_path / "smoothbench" / "models").is_dir()
    monkeypatch.setenv("SMOOTHBENCH_CACHE", str(tmp_path / "mine"))
    assert cache_dir() == tmp_path / "mine"


@given(st.lists(st.text(alphabet="abc", min_size=1, max_size=3), max_size=8), st.integers(1, 5))
def test_first_few_shows_at_most_shown_and_counts_the_rest(items, shown):
    text = first_few(items, shown)
    rest = len(items) - shown
    assert text.startswith(", ".join(items[:shown]))
    assert text.endswith(f"and {rest} more") == (rest > 0)
    assert "and 0 more" not in text


def test_an_output_folder_may_not_be_or_lie_below_a_file(tmp_path):
    from smoothbench.output_folder import check_output_folder

    afile = tmp_path / "results.txt"
    afile.write_text("x")
    with pytest.raises(ValueError, match="--out .*an existing file"):
        check_output_folder(afile)
    with pytest.raises(ValueError, match="is a file, so no folder can be made below it"):
        check_output_folder(afile / "sub" / "deeper", option="--report")
    assert check_output_folder(tmp_path / "new" / "folder") == tmp_path / "new" / "folder"


class _Base:
    pass


def _fresh_registry(monkeypatch):
    import smoothbench.registry as registry

    monkeypatch.setattr(registry, "_REGISTRIES", [])  # keep the process's list as it was
    return registry.Registry("gizmo", _Base, "smoothbench.audit_gizmos_none")


def test_a_taken_name_is_refused_and_a_rerun_cell_replaces_its_class(monkeypatch):
    """The ``smoothbench.registry`` docstring: another class under a taken name is refused
    (a plugin cannot shadow a built-in), one class under a second name too; the same
    definition again (a notebook cell run twice) replaces the old class."""
    reg = _fresh_registry(monkeypatch)

    def define():
        return type("Gizmo", (_Base,), {"__module__": "notebook_cell", "__qualname__": "Gizmo"})

    first = define()
    reg.add("gizmo", first)
    assert reg.get("gizmo") is first and first.name == "gizmo"
    again = define()
    reg.add("gizmo", again)  # the cell run again
    assert reg.get("gizmo") is again
    other = type("Other", (_Base,), {"__module__": "plugin", "__qualname__": "Other"})
    with pytest.raises(
        ValueError, match="gizmo 'gizmo' is already registered by notebook_cell.Gizmo"
    ):
        reg.add("gizmo", other)
    assert reg.get("gizmo") is again
    with pytest.raises(ValueError, match="already registered as the gizmo 'gizmo'"):
        reg.add("second", again)
    with pytest.raises(TypeError, match="not a subclass of _Base"):
        reg.add("free", type("Free", (), {}))
    refused = (" padded", "padded ", "", "  ", "a|b", "$\\x$", "<b>", "*x*", "a\nb", "a\tb", 7)
    markdown = ("my _fast_ gizmo", "_g", "~~g~~", "[g](https://x.example)", "g\u200b")
    for bad in (*refused, *markdown):
        with pytest.raises(ValueError, match=f"gizmo name {re.escape(repr(bad))}: a name"):
            reg.add(bad, other)
    assert reg.names() == ["gizmo"]
    shown = ("σ-gizmo", "my gizmo", "lévy:v2/b")  # other scripts, spaces: no markup
    for i, good in enumerate(shown):
        reg.add(good, type(f"G{i}", (_Base,), {"__module__": "plugin", "__qualname__": f"G{i}"}))
    assert sorted(reg.names()) == sorted(["gizmo", *shown])


def test_two_plugin_files_of_one_name_are_two_modules_each_imported_once(tmp_path, monkeypatch):
    """The ``smoothbench.plugins`` docstring: a file is imported under a module name of its
    own (its stem and the hash of its path), so two files of the same name do not
    collide, and a file loaded twice is imported once."""
    import sys
    import warnings

    import smoothbench.plugins as plugins

    monkeypatch.setattr(plugins, "_LOADED", {})
    files = []
    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
        f = tmp_path / folder / "my_noise.py"
        log = tmp_path / f"{folder}.log"
        f.write_text(
            f"VALUE = {folder!r}\nwith open({str(log)!r}, 'a') as fh:\n    fh.write('x')\n"
        )
        files.append((f, log))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # they register nothing
        keys = [plugins.load_plugin(str(f)) for f, _ in files]
        plugins.load_plugin(str(files[0][0]))  # again
    names = [plugins._LOADED[k] for k in keys]
    try:
        assert names[0] != names[1]
        assert [sys.modules[n].VALUE for n in names] == ["a", "b"]
        assert [log.read_text() for _, log in files] == ["x", "x"]
    finally:
        for n in names:
            sys.modules.pop(n, None)


def test_a_path_is_a_file_plugin_even_without_py(tmp_path):
    from smoothbench.plugins import load_plugin

    with pytest.raises(FileNotFoundError, match="plugin file .* not found"):
        load_plugin(str(tmp_path / "plugins" / "noise"))


def test_entry_points_are_loaded_by_get_and_a_clashing_one_is_only_warned_of(tmp_path, monkeypatch):
    """Installed plugins (entry points of the registry's group) are found by ``get`` alone,
    with no earlier call; one whose name is taken by another class, or that fails to
    import, is skipped with a ``PluginWarning`` and leaves the registered classes as they
    were (``Registry.load_plugins``: a broken plugin never breaks the tool)."""
    from importlib.metadata import EntryPoint

    import smoothbench.registry as registry

    reg = _fresh_registry(monkeypatch)
    module = "sb_entry_point_gizmos"
    (tmp_path / f"{module}.py").write_text(
        "from tests.smoothbench.test_package_promises import _Base\n"
        "class Installed(_Base):\n    pass\n"
        "class Clashing(_Base):\n    pass\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    builtin = type("Builtin", (_Base,), {"__module__": "builtins_here", "__qualname__": "B"})
    reg.add("taken", builtin)
    points = [
        EntryPoint("installed", f"{module}:Installed", reg.group),
        EntryPoint("taken", f"{module}:Clashing", reg.group),
        EntryPoint("missing", "sb_no_such_module:Gizmo", reg.group),
    ]
    monkeypatch.setattr(
        registry, "entry_points", lambda group: [p for p in points if p.group == group]
    )
    with pytest.warns(registry.PluginWarning) as caught:
        assert reg.get("installed").__name__ == "Installed"
    messages = " | ".join(str(w.message) for w in caught)
    assert "'taken'" in messages and "'missing'" in messages
    assert reg.get("taken") is builtin
    assert reg.names() == ["installed", "taken"]
