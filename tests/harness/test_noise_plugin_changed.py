"""A noise plugin edited between sampling and a later command: the stored counts were
drawn from one law, and no certificate may be computed for another under the same noise
name (a radius too large is a false guarantee)."""

from __future__ import annotations

import hashlib
import sqlite3
import sys
import textwrap

import pytest

from certifiers.registry import CERTIFIERS
from harness import runner
from harness.cli import main
from harness.config import load
from harness.noise.registry import NOISES
from harness.store import Store
from smoothbench import plugins

# sigma = K * s: the same spec (s = 0.5) is another law once K is edited
PLUGIN = textwrap.dedent(
    """
    from certifiers import register
    from certifiers.cohen import Cohen
    from harness.noise import Gaussian, register_noise
    from harness.noise.params import check_dim, check_positive_finite

    K = 0.5


    @register_noise("plug_gauss")
    class PlugGauss(Gaussian):
        scale_param = "s"

        def __init__(self, s: float, dim: int) -> None:
            self.s = check_positive_finite("s", s)
            self.sigma = K * self.s
            self.dim = check_dim(dim)


    @register("plug-cohen")
    class PlugCohen(Cohen):
        certificates = {("plug_gauss", "l2"): Cohen.certificates[("gaussian", "l2")]}
    """
)
EDITED = PLUGIN.replace("K = 0.5", "K = 1.0")  # twice the noise for the same spec

CONFIG = textwrap.dedent(
    """
    [run]
    name = "p"
    dataset = "digits"
    arch = "mlp"
    train_sigmas = [0.25]
    n_test = 4
    n0 = 20
    n = 200
    device = "cpu"
    {plugins}

    [[noises]]
    family = "plug_gauss"
    matched = false
    s = 0.5

    [certify]
    certifiers = ["plug-cohen"]
    norms = ["l2"]
    """
)


def _forget_plugins() -> None:
    """What a fresh process would not have: the plugin's classes, modules and record."""
    for registry, name in (
        (NOISES, "plug_gauss"),
        (CERTIFIERS, "plug-cohen"),
        (CERTIFIERS, "extra-cohen"),
    ):
        if name in registry.names():
            registry.unregister(name)
    plugins._LOADED.clear()
    for name in [m for m in sys.modules if m.startswith(("smoothbench_plugin_", "lawpkg"))]:
        del sys.modules[name]


def _radii(store) -> list[float]:
    with sqlite3.connect(store) as db:
        return [r for (r,) in db.execute("SELECT radius FROM certificates ORDER BY image")]


def _sampled(tmp_path):
    """A run's store of the plugin as first written, and the plugin and config files."""
    plugin = tmp_path / "plug.py"
    plugin.write_text(PLUGIN)
    config = tmp_path / "p.toml"
    config.write_text(CONFIG.format(plugins='plugins = ["plug.py"]'))
    store = tmp_path / "s.sqlite"
    assert main(["run", str(config), "--store", str(store), "--quiet"]) == 0
    _forget_plugins()
    return plugin, config, store


def _sampled_then_edited(tmp_path, capsys):
    plugin, config, store = _sampled(tmp_path)
    plugin.write_text(EDITED)
    capsys.readouterr()
    return plugin, config, store


def test_certify_refuses_counts_sampled_with_another_version_of_the_noise_plugin(
    tmp_path, clean_registries, capsys
):
    """``run`` refuses to resume such a store ("noise plugins' source differs"); ``certify``
    re-certified the counts under the edited law, doubling every radius."""
    plugin, config, store = _sampled_then_edited(tmp_path, capsys)
    before = _radii(store)
    assert main(["run", str(config), "--store", str(store), "--quiet"]) == 2
    assert "noise plugins' source differs" in capsys.readouterr().err
    _forget_plugins()
    code = main(["certify", str(store), "--plugin", str(plugin), "--quiet"])
    err = capsys.readouterr().err
    assert _radii(store) == before, "certify rewrote the radii under another noise law"
    assert code != 0 and "source" in err


def test_certify_refuses_an_edited_noise_plugin_moved_or_renamed(
    tmp_path, clean_registries, capsys
):
    """Moved and renamed, the file is not asked for by its old path (it registers the same
    names); its source is another all the same."""
    plugin, _, store = _sampled_then_edited(tmp_path, capsys)
    moved = tmp_path / "elsewhere" / "renamed.py"
    moved.parent.mkdir()
    plugin.rename(moved)
    before = _radii(store)
    code = main(["certify", str(store), "--plugin", str(moved), "--quiet"])
    assert _radii(store) == before and code != 0


def test_a_report_does_not_pass_certificates_of_another_noise_law(
    tmp_path, clean_registries, capsys
):
    """After a certify with the edited plugin, the report's soundness gate and its
    reproduction check pass: nothing says the counts were drawn from another law."""
    plugin, _, store = _sampled_then_edited(tmp_path, capsys)
    main(["certify", str(store), "--plugin", str(plugin), "--quiet"])
    capsys.readouterr()
    argv = ["report", str(store), "--out", str(tmp_path / "r"), "--reference", "plug-cohen"]
    main([*argv, "--plugin", str(plugin)])
    out = capsys.readouterr().out
    assert "[PASS] soundness" not in out


def test_the_recorded_source_is_the_one_imported_not_the_file_on_disk_later(
    tmp_path, clean_registries
):
    """In one process (a notebook), the plugin imported before an edit samples; the
    manifest must record that code's digest, not the edited file's, else a fresh process
    with the edited file resumes and certifies counts of the old law."""
    plugin = tmp_path / "plug.py"
    plugin.write_text(PLUGIN)
    config = tmp_path / "p.toml"
    config.write_text(CONFIG.format(plugins='plugins = ["plug.py"]'))
    cfg = load(config)  # imports the plugin as it is now (K = 0.5)
    plugin.write_text(EDITED)  # edited, not re-imported: load_plugin imports a file once
    store = tmp_path / "s.sqlite"
    runner.run(load(config), store, progress=False, certify=False)
    from harness.noise import noise_class

    assert cfg is not None
    assert noise_class("plug_gauss")(s=0.5, dim=64).sigma == 0.25  # the code that sampled
    with Store(store) as st:
        recorded = st.get_manifest("noise_sources")["plug_gauss"]
    assert recorded == hashlib.sha256(PLUGIN.encode()).hexdigest(), (
        "the counts were sampled with K = 0.5, the manifest holds the digest of K = 1.0"
    )


PACKAGE_LAW = textwrap.dedent(
    """
    from harness.noise import Gaussian
    from harness.noise.params import check_dim, check_positive_finite

    K = 0.5


    class ScaledGauss(Gaussian):
        scale_param = "s"

        def __init__(self, s: float, dim: int) -> None:
            self.s = check_positive_finite("s", s)
            self.sigma = K * self.s
            self.dim = check_dim(dim)
    """
)
PACKAGE_FAMILY = textwrap.dedent(
    """
    from certifiers import register
    from certifiers.cohen import Cohen
    from harness.noise import register_noise
    from lawpkg.law import ScaledGauss


    @register_noise("plug_gauss")
    class PlugGauss(ScaledGauss):
        pass


    @register("plug-cohen")
    class PlugCohen(Cohen):
        certificates = {("plug_gauss", "l2"): Cohen.certificates[("gaussian", "l2")]}
    """
)


def law_package(tmp_path, monkeypatch):
    """The package plugin ``lawpkg`` (its law in ``law.py``, its family in ``family.py``),
    importable, and a config that names it."""
    monkeypatch.syspath_prepend(str(tmp_path))
    package = tmp_path / "lawpkg"
    package.mkdir()
    (package / "__init__.py").write_text("from lawpkg import family  # noqa: F401\n")
    (package / "law.py").write_text(PACKAGE_LAW)
    (package / "family.py").write_text(PACKAGE_FAMILY)
    config = tmp_path / "p.toml"
    config.write_text(CONFIG.format(plugins='plugins = ["lawpkg"]'))
    return package, config


def test_a_run_refuses_to_resume_after_the_noise_law_changed_in_another_module(
    tmp_path, monkeypatch, clean_registries
):
    """The family's class lies in lawpkg/family.py, its law in its base class in
    lawpkg/law.py: only the first file is digested, so an edit of the law resumes the run
    and mixes counts of two laws under one noise name."""
    package, config = law_package(tmp_path, monkeypatch)
    store = tmp_path / "s.sqlite"
    try:
        runner.run(load(config), store, progress=False, stop_after=2, certify=False)
        _forget_plugins()
        (package / "law.py").write_text(PACKAGE_LAW.replace("K = 0.5", "K = 1.0"))
        with pytest.raises(ValueError, match="source differs"):
            runner.run(load(config), store, progress=False, certify=False)
    finally:
        _forget_plugins()


def _define_in_a_cell(source: str) -> None:
    """A family defined in a notebook cell: its module's file (Jupyter's
    ``/tmp/ipykernel_<pid>/<hash>.py``) does not exist on disk."""
    import types

    cell = types.ModuleType("lawcell")
    cell.__file__ = "/nonexistent/ipykernel_4242/2716.py"
    sys.modules["lawcell"] = cell
    exec(compile(source, cell.__file__, "exec"), cell.__dict__)


def test_a_noise_family_whose_source_is_not_found_is_not_taken_as_unchanged(
    tmp_path, clean_registries
):
    """Its digest is the constant "source not found", so any edit of the family resumes
    the run and mixes the counts of two laws under one noise name."""
    config = tmp_path / "p.toml"
    config.write_text(CONFIG.format(plugins=""))
    store = tmp_path / "s.sqlite"
    try:
        _define_in_a_cell(PLUGIN)
        runner.run(load(config), store, progress=False, stop_after=2, certify=False)
        with Store(store) as st:
            recorded = st.get_manifest("noise_sources")
        assert set(recorded) == {"plug_gauss"}
        assert recorded["plug_gauss"].startswith("source not found")
        _forget_plugins()
        sys.modules.pop("lawcell", None)
        _define_in_a_cell(EDITED)  # a new kernel, the cell edited: twice the noise
        with pytest.raises(ValueError, match="source"):
            runner.run(load(config), store, progress=False, certify=False)
    finally:
        _forget_plugins()
        sys.modules.pop("lawcell", None)


def test_an_edited_copy_refused_for_the_counts_is_not_asked_for_afterwards(
    tmp_path, clean_registries, capsys
):
    """A ``certify --plugin`` with an edited copy (another path) is refused for the counts,
    yet recorded the copy with the store's plugins: every later command without the
    plugins asked for the original and the copy, and loading both is refused (they
    register the same names). The copy certified nothing and is not recorded."""
    plugin, _, store = _sampled(tmp_path)
    copy = tmp_path / "copy" / "plug.py"
    copy.parent.mkdir()
    copy.write_text(EDITED)
    assert main(["certify", str(store), "--plugin", str(copy), "--quiet"]) != 0
    _forget_plugins()
    with Store(store) as st:
        assert str(copy) not in st.get_manifest("plugins")
    capsys.readouterr()
    assert main(["certify", str(store), "--quiet"]) == 2
    asked = capsys.readouterr().err
    assert f"--plugin {plugin}" in asked and str(copy) not in asked
    _forget_plugins()
    assert main(["certify", str(store), "--plugin", str(plugin), "--quiet"]) == 0


def test_an_edited_copy_whose_certifier_wrote_rows_stays_recorded(
    tmp_path, clean_registries, capsys
):
    """The copy's noise family is refused for the counts, but a certifier it also
    registers certifies a built-in noise: those rows are the copy's, and the store names
    it (found by a reviewer of the rule above)."""
    plugin = tmp_path / "plug.py"
    plugin.write_text(PLUGIN)
    config = tmp_path / "p.toml"
    both = CONFIG.format(plugins='plugins = ["plug.py"]').replace(
        "[[noises]]", '[[noises]]\nfamily = "gaussian"\n\n[[noises]]', 1
    )
    config.write_text(both)
    store = tmp_path / "s.sqlite"
    assert main(["run", str(config), "--store", str(store), "--quiet"]) == 0
    _forget_plugins()
    extra = textwrap.dedent(
        """

        @register("extra-cohen")
        class ExtraCohen(Cohen):
            certificates = {("gaussian", "l2"): Cohen.certificates[("gaussian", "l2")]}
        """
    )
    copy = tmp_path / "copy" / "plug.py"
    copy.parent.mkdir()
    copy.write_text(EDITED + extra)
    argv = ["certify", str(store), "--plugin", str(copy), "--certifier", "extra-cohen"]
    assert main([*argv, "--quiet"]) != 0  # refused for plug_gauss's counts
    _forget_plugins()
    with sqlite3.connect(store) as db:
        (rows,) = db.execute("SELECT COUNT(*) FROM certificates WHERE certifier = 'extra-cohen'")
    assert rows[0] > 0
    with Store(store) as st:
        assert str(copy) in st.get_manifest("plugins")
