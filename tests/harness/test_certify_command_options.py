"""``smoothbench certify``: the options given replace the config's, ``--quiet`` hides the
bar, and a bad alpha is refused before anything is written."""

from __future__ import annotations

import numpy as np
import pytest

from harness.cli import main
from harness.noise import Gaussian
from harness.store import Store
from tests.reports._report_synth import DIM, add_counts, new_store

CONFIG = {"certify": {"certifiers": ["cohen"], "norms": ["l2"], "alpha": [0.001]}}


def _store(path, images=6):
    store = new_store(path, images, {"m": 0.25}, config=CONFIG)
    labels = np.arange(images) % 10
    add_counts(store, "m", Gaussian(0.25, DIM), labels, labels, [990] * images)
    store.close()
    return path


def _groups(path):
    with Store(path, readonly=True) as st:
        return set(st.query("SELECT DISTINCT certifier, norm, alpha FROM certificates"))


def test_the_config_decides_without_options(tmp_path):
    store = _store(tmp_path / "s.sqlite")
    assert main(["certify", str(store), "--quiet"]) == 0
    assert _groups(store) == {("cohen", "l2", 0.001)}


def test_norm_alpha_and_certifier_options_replace_the_configs(tmp_path):
    store = _store(tmp_path / "s.sqlite")
    argv = ["certify", str(store), "--quiet", "--norm", "l1", "--alpha", "0.01",
            "--certifier", "wulff"]  # fmt: skip
    assert main(argv) == 0
    assert _groups(store) == {("wulff", "l1", 0.01)}


@pytest.mark.parametrize("alpha", ["0", "1", "-0.1", "nan"])
def test_a_bad_alpha_is_refused_before_writing(tmp_path, capsys, alpha):
    store = _store(tmp_path / "s.sqlite")
    assert main(["certify", str(store), "--quiet", "--alpha", alpha]) == 2
    assert "alpha" in capsys.readouterr().err
    assert _groups(store) == set()


@pytest.mark.parametrize(
    ("given", "message"),
    [
        (["--alpha", "0.001", "--alpha", "0.001"], "--alpha 0.001 is given twice"),
        (["--certifier", "cohen", "--certifier", "cohen"], "--certifier cohen is given twice"),
        (["--norm", "l2", "--norm", "l1", "--norm", "l2"], "--norm l2 is given twice"),
    ],
)
def test_an_option_value_given_twice_is_refused_as_a_config_refuses_it(
    tmp_path, capsys, given, message
):
    """It was taken, and a group certified twice (CLI audit)."""
    store = _store(tmp_path / "s.sqlite")
    assert main(["certify", str(store), "--quiet", *given]) == 2
    assert capsys.readouterr().err.strip() == f"smoothbench certify: error: {message}"
    assert _groups(store) == set()


def test_quiet_hides_the_bar_and_the_default_shows_it(tmp_path, capsys):
    store = _store(tmp_path / "s.sqlite")
    capsys.readouterr()
    assert main(["certify", str(store), "--quiet"]) == 0
    quiet = capsys.readouterr().err
    assert main(["certify", str(store), "--alpha", "0.01"]) == 0
    shown = capsys.readouterr().err
    assert quiet == "" and "%" in shown


def test_all_certifiers_do_not_warn_about_the_deterministic_ones(tmp_path, capsys):
    """``--certifier all`` names the deterministic certifiers too, by design: certify
    skips them without a warning, and certifies with every smoothing certifier."""
    store = _store(tmp_path / "s.sqlite")
    capsys.readouterr()
    assert main(["certify", str(store), "--quiet", "--certifier", "all"]) == 0
    assert "deterministic" not in capsys.readouterr().err
    certifiers = {c for c, _, _ in _groups(store)}
    assert {"cohen", "wulff"} <= certifiers and not certifiers & {"ibp", "crown"}
