"""The manifest's provenance fields say what their docstrings promise: the version with
the git commit, the session's UTC start, this interpreter's version, the executor."""

from __future__ import annotations

import platform
import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from importlib.metadata import PackageNotFoundError
from pathlib import Path

import pytest
import torch

from harness import provenance


def test_an_uninstalled_checkout_has_the_documented_fallback_version(monkeypatch):
    def missing(name):
        raise PackageNotFoundError(name)

    monkeypatch.setattr(provenance, "version", missing)
    assert provenance.package_version() == "0+unknown"


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_the_code_version_is_the_package_version_plus_the_commit():
    here = Path(provenance.__file__).parent
    done = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=here
    )
    if done.returncode != 0:
        pytest.skip("not a git checkout")
    commit = done.stdout.strip()
    version = provenance.code_version()
    assert version.split(".dirty-")[0] == f"{provenance.package_version()}+{commit}"


def test_without_git_the_code_version_is_the_package_version(monkeypatch):
    def no_git(*args, **kwargs):
        raise FileNotFoundError("git")

    monkeypatch.setattr(provenance.subprocess, "run", no_git)
    assert provenance.code_version() == provenance.package_version()


def test_a_session_record_keeps_the_earlier_ones_and_states_this_one():
    earlier = [{"executor": "ray", "started": "2020-01-01T00:00:00+00:00"}]
    before = datetime.now(UTC)
    records = provenance.sessions(earlier, torch.device("cpu"), "local", 7)
    assert records[0] == earlier[0] and len(records) == 2
    record = records[1]
    assert record["executor"] == "local" and record["counts_stored_before"] == 7
    assert record["python"] == platform.python_version()
    assert record["device"] == "cpu"
    started = datetime.fromisoformat(record["started"])
    assert started.utcoffset() == timedelta(0)  # UTC, stated as such
    assert before - timedelta(seconds=2) <= started <= datetime.now(UTC) + timedelta(seconds=1)
    assert provenance.sessions(None, torch.device("cpu"), "ray", 0)[0]["executor"] == "ray"
    assert record["batch_size"] == "auto"  # the config named none
    assert provenance.sessions(None, torch.device("cpu"), "local", 0, 8)[0]["batch_size"] == 8


def _checkout(tmp_path) -> Path | None:
    """A clone of this checkout (its committed state), or None outside a git checkout."""
    here = Path(provenance.__file__).parent
    top = subprocess.run(
        ["git", "rev-parse", "--show-toplevel"], capture_output=True, text=True, cwd=here
    )
    if shutil.which("git") is None or top.returncode != 0:
        return None
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", top.stdout.strip(), str(clone)], check=True)
    return clone


def test_an_edited_python_file_makes_the_code_version_dirty(tmp_path):
    """An edit that changes counts (here a model's forward) without a commit must show in
    the sessions' record: the commit alone named an edited tree as the clean one."""
    clone = _checkout(tmp_path)
    if clone is None:
        pytest.skip("not a git checkout")
    where = clone / "harness"
    clean = provenance.code_version(where)
    assert clean.count("+") == 1 and ".dirty-" not in clean
    (clone / "README.md").write_text("not code\n")
    assert provenance.code_version(where) == clean  # only Python files decide counts
    forward = clone / "baselines" / "architectures.py"
    text = forward.read_text()
    forward.write_text(text.replace("x - 0.5", "x - 0.3"))
    first = provenance.code_version(where)
    assert first.startswith(clean + ".dirty-") and len(first) == len(clean) + 7 + 12
    forward.write_text(text.replace("x - 0.5", "x - 0.4"))
    assert provenance.code_version(where) not in (clean, first)  # another edit, another name
    forward.write_text(text)
    assert provenance.code_version(where) == clean


def test_the_dirty_name_ignores_the_users_git_settings_and_sees_new_files(tmp_path):
    """An external diff tool printed nothing (the edited tree named clean); colours and
    prefixes changed the digest of one edit; a new module git does not track yet was not
    seen."""
    clone = _checkout(tmp_path)
    if clone is None:
        pytest.skip("not a git checkout")
    where = clone / "harness"
    forward = clone / "baselines" / "architectures.py"
    forward.write_text(forward.read_text().replace("x - 0.5", "x - 0.3"))
    edited = provenance.code_version(where)
    assert ".dirty-" in edited
    for key, value in (("diff.external", "true"), ("color.ui", "always"),
                       ("diff.noprefix", "true"), ("diff.mnemonicPrefix", "true")):  # fmt: skip
        subprocess.run(["git", "-C", str(clone), "config", key, value], check=True)
    assert provenance.code_version(where) == edited
    (clone / "harness" / "new_module.py").write_text("X = 1\n")
    with_new = provenance.code_version(where)
    assert ".dirty-" in with_new and with_new != edited
    (clone / "harness" / "new_module.py").write_text("X = 2\n")
    assert provenance.code_version(where) not in (edited, with_new)


def test_a_diff_git_cannot_make_is_not_called_clean(tmp_path, monkeypatch):
    clone = _checkout(tmp_path)
    if clone is None:
        pytest.skip("not a git checkout")
    real = provenance._git
    monkeypatch.setattr(
        provenance, "_git", lambda args, where: None if args[0] == "diff" else real(args, where)
    )
    assert provenance.code_version(clone / "harness").endswith(".dirty-unknown")


def test_the_provenance_names_numpys_version():
    """numpy computes the CPU draws' uniforms and much of their math and transforms."""
    import numpy

    assert provenance.provenance(torch.device("cpu"))["numpy"] == numpy.__version__


def test_an_installed_copy_inside_another_repository_names_no_commit(tmp_path):
    """site-packages in a project's virtual environment sits in the project's repository:
    its commit and its diff are not this code's."""
    if shutil.which("git") is None:
        pytest.skip("needs git")
    project = tmp_path / "project"
    package = project / ".venv" / "lib" / "site-packages" / "harness"
    package.mkdir(parents=True)
    (package / "provenance.py").write_text("# an installed copy\n")
    subprocess.run(["git", "init", "-q", str(project)], check=True)
    (project / "main.py").write_text("print(1)\n")
    git = ["git", "-C", str(project), "-c", "user.email=a@b", "-c", "user.name=a"]
    subprocess.run([*git, "add", "main.py"], check=True)
    subprocess.run([*git, "commit", "-qm", "the project's own"], check=True)
    (project / "main.py").write_text("print(2)\n")  # the project is dirty, too
    assert provenance.code_version(package) == provenance.package_version()
