"""A plugin written as one file serves every command: ``--plugin FILE.py`` (or a run
config's ``run.plugins``) imports it before the registries are read, a run records it in
its manifest, and ``certify`` with the same file certifies with it."""

from __future__ import annotations

import sys
import textwrap
import warnings

import pytest

from certifiers.registry import CERTIFIERS
from harness.cli import main
from harness.config import ConfigError, load
from harness.noise.registry import NOISES
from harness.store import Store
from smoothbench import plugins
from smoothbench.plugins import load_plugin
from tests.plugin_state import plugins_undone

PLUGIN = textwrap.dedent(
    '''
    """A Gaussian under another family name, and Cohen's certificate for it."""
    from certifiers import Certificate, register
    from certifiers.cohen import Cohen
    from harness.noise import Gaussian, register_noise


    @register_noise("file_gaussian")
    class FileGaussian(Gaussian):
        pass


    @register("file-cohen")
    class FileCohen(Cohen):
        certificates = {("file_gaussian", "l2"): Cohen.certificates[("gaussian", "l2")]}
    '''
)

CONFIG = textwrap.dedent(
    """
    [run]
    name = "p"
    dataset = "digits"
    arch = "mlp"
    train_sigmas = [0.25]
    n_test = 3
    n0 = 20
    n = 200
    {plugins}

    [[noises]]
    family = "file_gaussian"

    [certify]
    certifiers = ["file-cohen"]
    norms = ["l2"]
    """
)


def test_a_file_registers_once_and_is_recorded(tmp_path, clean_registries):
    path = tmp_path / "mine.py"
    path.write_text(PLUGIN)
    assert load_plugin(str(path)) == str(path.resolve())
    assert "file_gaussian" in NOISES and "file-cohen" in CERTIFIERS
    assert load_plugin("mine.py", relative_to=tmp_path) == str(path.resolve())  # once
    assert plugins.loaded()[-1] == str(path.resolve())
    assert plugins.loaded().count(str(path.resolve())) == 1


def test_bad_plugins_are_clear_errors(tmp_path, clean_registries):
    with pytest.raises(FileNotFoundError, match="plugin file nowhere.py not found"):
        load_plugin("nowhere.py", relative_to=tmp_path)
    broken = tmp_path / "broken.py"
    broken.write_text("def f(:\n")
    with pytest.raises(ValueError, match="plugin file .*broken.py failed to import: SyntaxError"):
        load_plugin(str(broken))
    assert not any(m.startswith("smoothbench_plugin_broken") for m in sys.modules)
    with pytest.raises(ValueError, match="plugin module 'no_such_pkg.mod' cannot be imported"):
        load_plugin("no_such_pkg.mod")


def _files(tmp_path, plugins_line: str):
    """The plugin file, a config (with ``plugins_line`` in its [run]) and a store path."""
    plugin = tmp_path / "mine.py"
    plugin.write_text(PLUGIN)
    config = tmp_path / "p.toml"
    config.write_text(CONFIG.format(plugins=plugins_line))
    return plugin, config, tmp_path / "s.sqlite"


def test_run_and_certify_with_plugin_on_the_command_line(tmp_path, clean_registries, capsys):
    plugin, config, store = _files(tmp_path, "")
    # without the plugin the config names an unknown family
    assert main(["run", str(config), "--store", str(store), "--quiet"]) == 2
    assert "unknown noise family 'file_gaussian'" in capsys.readouterr().err
    argv = ["run", str(config), "--store", str(store), "--quiet", "--plugin", str(plugin)]
    assert main(argv) == 0, capsys.readouterr().err
    with Store(store) as st:
        assert {r.noise.split("(")[0] for r in st.count_rows()} == {"file_gaussian"}
        assert st.query("SELECT DISTINCT certifier FROM certificates") == [("file-cohen",)]
        assert st.get_manifest("plugins") == [str(plugin.resolve())]
    argv = ["certify", str(store), "--certifier", "file-cohen", "--plugin", str(plugin), "--quiet"]
    assert main(argv) == 0, capsys.readouterr().err


def test_a_config_names_its_plugins_relative_to_itself(tmp_path, clean_registries):
    (tmp_path / "plugins").mkdir()
    (tmp_path / "plugins" / "mine.py").write_text(PLUGIN)
    config = tmp_path / "p.toml"
    config.write_text(CONFIG.format(plugins='plugins = ["plugins/mine.py"]'))
    cfg = load(config)
    assert cfg.plugins == (str((tmp_path / "plugins" / "mine.py").resolve()),)
    assert cfg.noises[0].family == "file_gaussian" and cfg.certifiers == ("file-cohen",)
    config.write_text(CONFIG.format(plugins='plugins = ["plugins/missing.py"]'))
    with pytest.raises(ConfigError, match=r"run.plugins\[0\]': plugin file plugins/missing.py"):
        load(config)


def _run_then_forget_the_plugin(tmp_path, capsys):
    """A run with the plugin in its config; then the plugin undone, as a fresh process
    would not have it."""
    plugin, config, store = _files(tmp_path, 'plugins = ["mine.py"]')
    assert main(["run", str(config), "--store", str(store), "--quiet"]) == 0
    NOISES.unregister("file_gaussian")
    CERTIFIERS.unregister("file-cohen")
    plugins._LOADED.clear()
    capsys.readouterr()
    return plugin, store


def test_a_report_without_the_runs_plugin_says_so_and_checks_nothing_of_it(
    tmp_path, clean_registries, capsys
):
    plugin, store = _run_then_forget_the_plugin(tmp_path, capsys)
    assert (
        main(["report", str(store), "--out", str(tmp_path / "r1"), "--reference", "file-cohen"])
        == 0
    )
    out = capsys.readouterr().out
    said = f"WARNING: the store was written with the plugin {plugin.resolve()}, which this report"
    assert f"{said} did not load" in out
    assert "[INCOMPLETE] soundness" in out
    argv = ["report", str(store), "--out", str(tmp_path / "r2"), "--reference", "file-cohen"]
    assert main([*argv, "--plugin", str(plugin)]) == 0
    out = capsys.readouterr().out
    assert "which this report did not" not in out and "[PASS] soundness" in out


def test_a_run_refuses_to_resume_after_its_noise_plugin_changed(tmp_path, clean_registries):
    """The same draws could map to other samples under the same noise name. (A process
    imports a plugin file once: the edited file is read by the next process.)"""
    from harness import runner

    plugin, config, store = _files(tmp_path, 'plugins = ["mine.py"]')
    with plugins_undone():  # the first process
        cfg = load(config)
        runner.run(cfg, store, progress=False, stop_after=1, certify=False)
        runner.run(cfg, store, progress=False, stop_after=1, certify=False)  # resumes
    with Store(store) as st:
        assert len(st.done_keys()) == 2
        assert set(st.get_manifest("noise_sources")) == {"file_gaussian"}
    plugin.write_text(PLUGIN.replace("pass", "coupling = 'changed'"))
    with pytest.raises(ValueError, match="noise plugins' source differs.*file_gaussian"):
        runner.run(load(config), store, progress=False, certify=False)


def test_a_file_that_registers_nothing_is_warned_of(tmp_path, clean_registries):
    path = tmp_path / "forgot.py"
    path.write_text(PLUGIN.replace('@register("file-cohen")\n', ""))  # a noise still
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        load_plugin(str(path))
    empty = tmp_path / "empty.py"
    empty.write_text("from certifiers.cohen import Cohen\n\n\nclass Mine(Cohen):\n    pass\n")
    with pytest.warns(UserWarning, match="plugin file .*empty.py registered nothing"):
        load_plugin(str(empty))


def test_a_module_that_registers_nothing_is_warned_of(tmp_path, monkeypatch, clean_registries):
    """A module name is taken as a plugin too (``--plugin cuda`` imports the installed
    package): one whose classes, and its package's, register nothing is warned of."""
    monkeypatch.syspath_prepend(str(tmp_path))
    (tmp_path / "plain_mod.py").write_text("VALUE = 1\n")
    package = tmp_path / "noise_pkg"
    package.mkdir()
    (package / "__init__.py").write_text("from noise_pkg import families  # noqa: F401\n")
    (package / "families.py").write_text(PLUGIN.replace('@register("file-cohen")\n', ""))
    try:
        with pytest.warns(UserWarning, match="plugin module plain_mod registered nothing"):
            load_plugin("plain_mod")
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            load_plugin("noise_pkg")  # its submodule registers a noise
            load_plugin("certifiers.cohen")  # imported before: its classes are registered
        assert "file_gaussian" in NOISES.names()
    finally:
        for name in ("plain_mod", "noise_pkg", "noise_pkg.families"):
            sys.modules.pop(name, None)


def test_a_clash_between_two_files_names_the_first_file(tmp_path, clean_registries):
    first, second = tmp_path / "first.py", tmp_path / "second.py"
    first.write_text(PLUGIN)
    second.write_text(PLUGIN.replace("class FileGaussian", "class OtherGaussian"))
    load_plugin(str(first))
    with pytest.raises(
        ValueError, match=f"'file_gaussian' is already registered by FileGaussian in {first}"
    ):
        load_plugin(str(second))


def test_certify_and_export_without_the_runs_plugin_name_its_file(
    tmp_path, clean_registries, capsys
):
    plugin, store = _run_then_forget_the_plugin(tmp_path, capsys)
    hint = f"the store was written with {plugin.resolve()}, not loaded here (--plugin "
    assert main(["certify", str(store), "--certifier", "file-cohen", "--quiet"]) == 2
    assert hint in capsys.readouterr().err
    assert main(["export", "cohen-tsv", str(store), "--out", str(tmp_path / "tsv")]) == 0
    err = capsys.readouterr().err
    assert f"warning: the store was written with the plugin {plugin.resolve()}, which this" in err


NOISE_PLUGIN = textwrap.dedent(
    """
    from harness.noise import Gaussian, register_noise


    @register_noise("file_gaussian")
    class FileGaussian(Gaussian):
        pass
    """
)

CERTIFIER_PLUGIN = textwrap.dedent(
    """
    from certifiers import register
    from certifiers.cohen import Cohen


    @register("file-cohen")
    class FileCohen(Cohen):
        certificates = {("file_gaussian", "l2"): Cohen.certificates[("gaussian", "l2")]}
    """
)


def test_certify_given_the_certifier_plugin_but_not_the_noises_names_the_noises_file(
    tmp_path, clean_registries, capsys
):
    """The certifier is known, so the failure is that no stored noise is one of its
    families: the noise plugin's file must be named, not only "certifies none of them"."""
    (tmp_path / "noise.py").write_text(NOISE_PLUGIN)
    (tmp_path / "certifier.py").write_text(CERTIFIER_PLUGIN)
    config = tmp_path / "p.toml"
    config.write_text(CONFIG.format(plugins='plugins = ["noise.py", "certifier.py"]'))
    store = tmp_path / "s.sqlite"
    assert main(["run", str(config), "--store", str(store), "--quiet"]) == 0
    NOISES.unregister("file_gaussian")
    CERTIFIERS.unregister("file-cohen")
    plugins._LOADED.clear()
    capsys.readouterr()
    certifier = str((tmp_path / "certifier.py").resolve())
    argv = ["certify", str(store), "--certifier", "file-cohen", "--plugin", certifier, "--quiet"]
    assert main(argv) == 2
    noise = (tmp_path / "noise.py").resolve()
    assert f"the store was written with {noise}, not loaded here (--plugin {noise})" in (
        capsys.readouterr().err
    )


def test_a_plugin_named_to_add_its_noise_extends_a_stored_run(tmp_path, clean_registries):
    """The plugin files are recorded by what they define, not by their list in the
    config: naming one to add its noise to a stored run extends the run."""
    from harness import runner

    plugin, config, store = _files(tmp_path, "")
    plain = CONFIG.format(plugins="").replace("file_gaussian", "gaussian")
    config.write_text(plain.replace('"file-cohen"', '"cohen"'))
    runner.run(load(config), store, progress=False, certify=False)
    extended = CONFIG.format(plugins='plugins = ["mine.py"]')
    config.write_text(extended + '\n[[noises]]\nfamily = "gaussian"\n')
    runner.run(load(config), store, progress=False, certify=False)
    with Store(store) as st:
        noises = {noise for _, noise, _ in st.done_keys()}
        assert st.get_manifest("noise_sources").keys() == {"file_gaussian"}
        assert st.get_manifest("sessions")[-1]["added"]["noises"][0]["family"] == "file_gaussian"
    assert len(noises) == 2 and any(n.startswith("file_gaussian") for n in noises)


def test_a_plugin_file_moved_since_the_run_is_not_asked_for(tmp_path, clean_registries, capsys):
    """The store records what each plugin registered; a file moved or renamed since,
    loaded from where it is now, registers the same, so no command asks for the old
    path (which no longer exists), and a report without it still does."""
    plugin, store = _run_then_forget_the_plugin(tmp_path, capsys)
    moved = tmp_path / "elsewhere" / "renamed.py"
    moved.parent.mkdir()
    plugin.rename(moved)
    argv = ["report", str(store), "--reference", "file-cohen"]
    assert main([*argv, "--out", str(tmp_path / "r1"), "--plugin", str(moved)]) == 0
    captured = capsys.readouterr()
    assert str(plugin.resolve()) not in captured.out + captured.err
    assert "[PASS] soundness" in captured.out
    NOISES.unregister("file_gaussian")
    CERTIFIERS.unregister("file-cohen")
    plugins._LOADED.clear()
    assert main([*argv, "--out", str(tmp_path / "r2")]) == 0
    said = f"WARNING: the store was written with the plugin {plugin.resolve()}"
    assert said in capsys.readouterr().out


def test_one_plugin_recorded_at_two_places_is_asked_for_once(clean_registries):
    """Loading two files that register the same names is refused, so of a plugin recorded
    under two paths (moved, or copied) only the later one is asked for; a file that also
    registers something else is asked for too."""
    same = {"/a/p.py": ["certifier:x"], "/b/p.py": ["certifier:x"]}
    assert plugins.not_loaded(["/a/p.py", "/b/p.py"], same) == ["/b/p.py"]
    more = {"/a/p.py": ["certifier:x", "noise family:y"], "/b/p.py": ["certifier:x"]}
    assert plugins.not_loaded(["/a/p.py", "/b/p.py"], more) == ["/a/p.py", "/b/p.py"]
    # a sub-module recorded before its package, whose record holds the sub-module's
    # classes too: they load together, and both are asked for (found by a reviewer)
    package = {"pkg.extra": ["certifier:x"], "pkg": ["certifier:x", "certifier:z"]}
    assert plugins.not_loaded(["pkg.extra", "pkg"], package) == ["pkg.extra", "pkg"]
