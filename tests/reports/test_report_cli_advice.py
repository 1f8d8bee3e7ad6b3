"""``smoothbench report`` errors: the next step for a store with nothing to report (run,
resume the run, or certify), and one-line bad-input errors for --out and --radii."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from harness.cli import main
from harness.noise import Gaussian
from tests.reports._report_synth import DIM, N_CLASSES, add_counts, new_store

N_IMAGES = 10


def _store(path: Path, sampled: int) -> Path:
    """A store of one model that set out to sample ``N_IMAGES`` images, with counts for
    the first ``sampled`` of them and no certificate."""
    store = new_store(path, N_IMAGES, {"m": 0.25})
    if sampled:
        labels = np.arange(sampled) % N_CLASSES
        add_counts(store, "m", Gaussian(0.25, DIM), labels, labels, np.full(sampled, 990))
    store.close()
    return path


def _report_error(store: Path, out: Path, capsys, *extra: str) -> str:
    assert main(["report", str(store), "--out", str(out), *extra]) == 2
    captured = capsys.readouterr()
    err = captured.err.strip()
    assert err.startswith("smoothbench report: error: ") and "\n" not in err
    assert "Traceback" not in captured.err
    return err


def test_no_counts_says_to_run_first(tmp_path, capsys):
    path = _store(tmp_path / "bare.sqlite", sampled=0)
    err = _report_error(path, tmp_path / "o", capsys)
    assert "holds no counts and no certificates" in err
    assert f"smoothbench run CONFIG --store {path}" in err
    assert "certify" not in err


def test_incomplete_sampling_says_to_resume_the_run(tmp_path, capsys):
    path = _store(tmp_path / "partial.sqlite", sampled=4)
    err = _report_error(path, tmp_path / "o", capsys)
    assert "sampling is incomplete: 4 of 10 images;" in err
    assert f"resume the run with `smoothbench run CONFIG --store {path}`" in err
    assert f"certify the images sampled so far with `smoothbench certify {path}`" in err


def test_complete_counts_without_certificates_say_to_certify(tmp_path, capsys):
    path = _store(tmp_path / "sampled.sqlite", sampled=N_IMAGES)
    err = _report_error(path, tmp_path / "o", capsys)
    assert "holds counts but no certificates" in err
    assert f"smoothbench certify {path}" in err
    assert "smoothbench run" not in err


@pytest.fixture()
def sampled_store(tmp_path) -> Path:
    return _store(tmp_path / "s.sqlite", sampled=N_IMAGES)


def test_out_that_is_a_file_is_bad_input(sampled_store, tmp_path, capsys):
    existing = tmp_path / "file.txt"
    existing.write_text("keep me\n")
    err = _report_error(sampled_store, existing, capsys)
    assert f"--out {existing}: an existing file; --out must be a folder" in err
    assert existing.read_text() == "keep me\n"


def test_negative_radii_name_the_option_not_a_config_key(sampled_store, tmp_path, capsys):
    err = _report_error(sampled_store, tmp_path / "o", capsys, "--radii", "-1")
    assert "--radii must hold finite radii >= 0, got -1.0" in err
    assert "config key" not in err


def test_a_norms_grid_given_twice_is_refused(sampled_store, tmp_path, capsys):
    """``--radii l2=0.5 l2=1`` kept the last grid only: the 0.5 vanished (CLI audit)."""
    err = _report_error(sampled_store, tmp_path / "o", capsys, "--radii", "l2=0.5", "l2=1")
    assert "--radii l2=1: l2's grid is given twice; give it once, as l2=R,R,..." in err
