"""The source of a plugin noise family, where it is hard to read: a notebook cell (a
constant beside the class, a base in another cell), a class made by exec (no text at
all), a package whose law lies in a base class's module (stores recorded the class's own
file alone before bases counted), a store that records no source; and ``audit`` beside
``certify``. In each case counts of one law must never be certified under another, and
an unchanged plugin must not be refused."""

from __future__ import annotations

import hashlib
import linecache
import sqlite3
import sys
import types

import numpy as np
import pytest

from harness import runner
from harness.certify import CertificationError, certify_store
from harness.config import load
from harness.noise.source import source_digest
from harness.store import Store
from tests.harness.test_noise_plugin_changed import (
    CONFIG,
    EDITED,
    PLUGIN,
    _forget_plugins,
    _radii,
    law_package,
)


def _cell(source: str, name: str) -> None:
    """A notebook cell as IPython runs it: its text in ``linecache`` (so that
    ``inspect.getsource`` finds it), no file on disk."""
    linecache.cache[name] = (len(source), None, source.splitlines(True), name)
    cell = types.ModuleType("revEcell")
    cell.__file__ = name
    sys.modules["revEcell"] = cell
    exec(compile(source, name, "exec"), cell.__dict__)


def _uncell(*names: str) -> None:
    sys.modules.pop("revEcell", None)
    for name in names:
        linecache.cache.pop(name, None)


# 1 -------------------------------------------------------------------------------------
def test_a_notebook_cell_edit_outside_the_class_changes_the_digest(clean_registries):
    """The cell's law lies in a module-level constant (K); ``inspect.getsource`` returns the
    class statement only, so K = 0.5 and K = 1.0 have the same digest."""
    from harness.noise import noise_class

    names = ["/nonexistent/ipykernel_1/a.py", "/nonexistent/ipykernel_2/b.py"]
    try:
        _cell(PLUGIN, names[0])
        first = source_digest(noise_class("plug_gauss"))
        _forget_plugins()
        _uncell()
        _cell(EDITED, names[1])
        edited = source_digest(noise_class("plug_gauss"))
    finally:
        _forget_plugins()
        _uncell(*names)
    assert first != edited, "twice the noise, the same recorded source"


def test_a_run_from_a_notebook_cell_does_not_resume_after_the_cell_was_edited(
    tmp_path, clean_registries
):
    config = tmp_path / "p.toml"
    config.write_text(CONFIG.format(plugins=""))
    store = tmp_path / "s.sqlite"
    names = ["/nonexistent/ipykernel_1/a.py", "/nonexistent/ipykernel_2/b.py"]
    try:
        _cell(PLUGIN, names[0])
        runner.run(load(config), store, progress=False, stop_after=2, certify=False)
        _forget_plugins()
        _uncell()
        _cell(EDITED, names[1])  # a new kernel, the cell edited: twice the noise
        with pytest.raises(ValueError, match="source"):
            runner.run(load(config), store, progress=False, certify=False)
    finally:
        _forget_plugins()
        _uncell(*names)


# 2 -------------------------------------------------------------------------------------
def _exec_family(source: str) -> None:
    """A family whose text is nowhere (exec, no linecache): "source not found"."""
    cell = types.ModuleType("revEexec")
    cell.__file__ = "/nonexistent/exec_made.py"
    sys.modules["revEexec"] = cell
    exec(compile(source, cell.__file__, "exec"), cell.__dict__)


def test_certify_refuses_counts_of_a_family_whose_source_was_not_found(tmp_path, clean_registries):
    """check_resume refuses such a store ("one unknown source equals another"), but
    certify and the report compare "source not found" with "source not found" and take
    the family as unchanged: every radius is recomputed under the edited law."""
    config = tmp_path / "p.toml"
    config.write_text(CONFIG.format(plugins=""))
    store = tmp_path / "s.sqlite"
    try:
        _exec_family(PLUGIN)
        runner.run(load(config), store, progress=False, certify=True)
        before = _radii(store)
        assert before and any(r > 0 for r in before)
        _forget_plugins()
        sys.modules.pop("revEexec", None)
        _exec_family(EDITED)  # twice the noise under the same spec
        with Store(store) as st:
            with pytest.raises(CertificationError):
                certify_store(st, ["plug-cohen"], ["l2"], progress=False)
        assert _radii(store) == before, "radii rewritten under another law"
    finally:
        _forget_plugins()
        sys.modules.pop("revEexec", None)


# 3 -------------------------------------------------------------------------------------
def _as_recorded_before_bases_counted(store, package) -> None:
    """What stores recorded before bases counted: the sha256 of the class's own file."""
    old = hashlib.sha256((package / "family.py").read_bytes()).hexdigest()
    with Store(store) as st:
        st.put_manifest({"noise_sources": {"plug_gauss": old}})


def test_a_store_recording_the_class_file_alone_resumes_with_the_package_unchanged(
    tmp_path, monkeypatch, clean_registries
):
    package, config = law_package(tmp_path, monkeypatch)
    store = tmp_path / "s.sqlite"
    try:
        runner.run(load(config), store, progress=False, stop_after=2, certify=False)
        _as_recorded_before_bases_counted(store, package)
        _forget_plugins()
        runner.run(load(config), store, progress=False, certify=False)  # nothing changed
    finally:
        _forget_plugins()


def test_a_store_recording_the_class_file_alone_certifies_with_the_package_unchanged(
    tmp_path, monkeypatch, clean_registries
):
    package, config = law_package(tmp_path, monkeypatch)
    store = tmp_path / "s.sqlite"
    try:
        runner.run(load(config), store, progress=False, certify=False)
        _as_recorded_before_bases_counted(store, package)
        _forget_plugins()
        load(config)  # the plugin, unchanged
        with Store(store) as st:
            assert certify_store(st, ["plug-cohen"], ["l2"], progress=False) > 0
    finally:
        _forget_plugins()


# 4 -------------------------------------------------------------------------------------
def test_a_radius_given_as_text_in_an_object_array_is_refused():
    """As a confidence spent given as text is: ``astype(float)`` reads
    ``np.array(['0.7'], dtype=object)`` as 0.7."""
    from certifiers.base import checked_radii
    from certifiers.cohen import Cohen
    from harness.noise import Gaussian

    noise = Gaussian(sigma=0.5, dim=4)
    with pytest.raises(TypeError):
        checked_radii(Cohen(), noise, "l2", np.array([0.9]), np.array(["0.7"], dtype=object))


# 5 -------------------------------------------------------------------------------------
@pytest.mark.parametrize("record", ["kept", "deleted"])
def test_audit_refuses_a_store_whose_noise_plugin_changed(
    tmp_path, clean_registries, capsys, monkeypatch, record
):
    """``smoothbench audit`` rebuilds the store's noises from their specs with the edited
    plugin (``store_noises``, ``smoothed_targets``) and stored audit rows under the old
    noise name, for a law that never drew those counts; a run's store that records no
    source is refused too, as ``certify`` refuses it."""
    from harness.cli import main
    from tests.harness.test_noise_plugin_changed import _sampled_then_edited

    plugin, _, store = _sampled_then_edited(tmp_path, capsys)
    if record == "deleted":
        with sqlite3.connect(store) as db:
            db.execute("DELETE FROM manifest WHERE key = 'noise_sources'")
    monkeypatch.chdir(tmp_path)  # the stored config names plug.py relative to its folder
    code = main(["audit", str(store), "--plugin", str(plugin), "--quick", "--out",
                 str(tmp_path / "a")])  # fmt: skip
    err = capsys.readouterr().err
    with Store(store) as st:
        rows = st.audit_rows()
    assert code != 0 and "source" in err, (code, err[-400:], len(rows))


# 6 -------------------------------------------------------------------------------------
def test_certify_refuses_counts_of_a_plugin_family_no_source_was_recorded_for(
    tmp_path, clean_registries, capsys
):
    """A store written before ``noise_sources`` was recorded (or one whose record lost the
    family): ``source_change`` returns None where nothing is recorded, so certify
    recomputes every radius under whatever the plugin is now."""
    from harness.cli import main
    from tests.harness.test_noise_plugin_changed import _sampled_then_edited

    plugin, _, store = _sampled_then_edited(tmp_path, capsys)
    with sqlite3.connect(store) as db:
        db.execute("DELETE FROM manifest WHERE key = 'noise_sources'")
    before = _radii(store)
    main(["certify", str(store), "--plugin", str(plugin), "--quiet"])
    assert _radii(store) == before, "radii rewritten under a law no record vouches for"


def test_the_refusal_of_a_source_not_found_says_so():
    """An old notebook store recorded "source not found"; the refusal shows it cut to 12
    characters as if it were a digest, and asks to restore a plugin that never changed."""
    import harness.noise.registry as reg
    from harness.noise.registry import source_change

    original = reg.family_source
    reg.family_source = lambda family: "ab" * 32
    try:
        msg = source_change("x", {"x": "source not found"})
    finally:
        reg.family_source = original
    assert "source not f," not in msg and "restore the plugin as it was" not in msg, msg
