"""``audit STORE`` of a run whose config named its plugin file relative to the config's
folder: the stored config no longer knows that folder, so the plugin is found where the
run recorded loading it, or given with ``--plugin`` (from anywhere, moved or not); it
was looked up from the working directory, and the audit of such a store failed
everywhere but in the config's folder."""

from __future__ import annotations

import sqlite3

import pytest

from harness.cli import main
from tests.harness.test_noise_plugin_changed import CONFIG, PLUGIN, _forget_plugins


@pytest.fixture
def plugin_store(tmp_path, clean_registries, capsys, monkeypatch):
    """A store sampled from ``cfg/p.toml`` with ``plugins = ["plug.py"]``, the plugin
    forgotten as in a fresh process, and the working directory another folder."""
    folder = tmp_path / "cfg"
    folder.mkdir()
    (folder / "plug.py").write_text(PLUGIN)
    config = folder / "p.toml"
    config.write_text(CONFIG.format(plugins='plugins = ["plug.py"]'))
    store = tmp_path / "s.sqlite"
    assert main(["run", str(config), "--store", str(store), "--quiet"]) == 0
    _forget_plugins()
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")
    capsys.readouterr()
    return store


def _audit(store, *plugin: str) -> int:
    out = store.parent / "audit"
    return main(["audit", str(store), *plugin, "--quick", "--quiet", "--out", str(out)])


def _audited_certifiers(store) -> set[tuple[str, str]]:
    with sqlite3.connect(store) as db:
        return set(db.execute("SELECT audit, certifier FROM audit"))


@pytest.mark.parametrize("moved", [False, True], ids=["in-place", "moved"])
def test_the_plugin_given_with_plugin_is_used_from_any_folder(plugin_store, capsys, moved):
    plugin = plugin_store.parent / "cfg" / "plug.py"
    if moved:
        plugin = plugin.rename(plugin_store.parent / "renamed.py")
    assert _audit(plugin_store, "--plugin", str(plugin)) == 0, capsys.readouterr().err
    assert {("statistical", "plug-cohen"), ("attack", "plug-cohen")} <= _audited_certifiers(
        plugin_store
    )


def test_without_plugin_the_file_the_run_loaded_is_used(plugin_store, capsys):
    assert _audit(plugin_store) == 0, capsys.readouterr().err
    assert ("attack", "plug-cohen") in _audited_certifiers(plugin_store)


def test_a_plugin_moved_and_not_given_is_named_with_where_it_was(plugin_store, capsys):
    where = plugin_store.parent / "cfg" / "plug.py"
    where.rename(plugin_store.parent / "renamed.py")
    assert _audit(plugin_store) == 2
    err = capsys.readouterr().err
    assert str(where) in err and "not found" in err and "--plugin" in err


def test_a_plugin_the_run_was_given_with_plugin_is_loaded_again(tmp_path, clean_registries, capsys):
    """The config names no plugin; ``run --plugin FILE`` loaded it, and the manifest
    records it."""
    (tmp_path / "plug.py").write_text(PLUGIN)
    config = tmp_path / "p.toml"
    config.write_text(CONFIG.format(plugins=""))
    store = tmp_path / "s.sqlite"
    run = ["run", str(config), "--store", str(store), "--quiet", "--plugin"]
    assert main([*run, str(tmp_path / "plug.py")]) == 0
    _forget_plugins()
    capsys.readouterr()
    assert _audit(store) == 0, capsys.readouterr().err
    assert ("attack", "plug-cohen") in _audited_certifiers(store)


def test_a_plugin_recorded_at_its_old_and_new_path_is_found_at_the_new(plugin_store, capsys):
    """``certify --plugin MOVED`` after the file moved records the new path beside the
    old one."""
    moved = (plugin_store.parent / "cfg" / "plug.py").rename(plugin_store.parent / "moved.py")
    assert main(["certify", str(plugin_store), "--plugin", str(moved), "--quiet"]) == 0
    _forget_plugins()
    capsys.readouterr()
    assert _audit(plugin_store) == 0, capsys.readouterr().err
    assert ("attack", "plug-cohen") in _audited_certifiers(plugin_store)


def test_a_moved_plugin_given_serves_a_store_that_recorded_no_registrations(plugin_store, capsys):
    """A store written before the manifest kept ``plugin_registrations`` cannot say what
    the recorded file made: the file given with ``--plugin`` stands for it."""
    with sqlite3.connect(plugin_store) as db:
        db.execute("DELETE FROM manifest WHERE key = 'plugin_registrations'")
    moved = (plugin_store.parent / "cfg" / "plug.py").rename(plugin_store.parent / "moved.py")
    assert _audit(plugin_store, "--plugin", str(moved)) == 0, capsys.readouterr().err
    assert ("attack", "plug-cohen") in _audited_certifiers(plugin_store)


def test_a_gone_plugin_whose_registrations_no_given_plugin_makes_is_named(
    plugin_store, capsys, tmp_path
):
    """Another plugin given does not stand for a gone one whose recorded registrations it
    does not make (the store records what each plugin registered)."""
    other = tmp_path / "other.py"
    other.write_text(
        "from certifiers import register\nfrom certifiers.cohen import Cohen\n\n\n"
        "@register('other-cohen')\nclass OtherCohen(Cohen):\n    pass\n"
    )
    where = plugin_store.parent / "cfg" / "plug.py"
    where.rename(plugin_store.parent / "renamed.py")
    assert _audit(plugin_store, "--plugin", str(other)) == 2
    (error,) = [line for line in capsys.readouterr().err.splitlines() if "error:" in line]
    assert str(where) in error and "not found now" in error
