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
    assert provenance.code_version() == f"{provenance.package_version()}+{commit}"


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
