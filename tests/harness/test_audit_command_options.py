"""``smoothbench audit``: ``--images`` reaches the attack audit and a count below one is
refused before anything is run or written; ``--quiet`` hides the bars of the run it makes."""

from __future__ import annotations

import pytest

from harness.cli import main
from harness.store import Store

CONFIG = (
    '[run]\nname = "t"\ndataset = "digits"\narch = "mlp"\ntrain_sigmas = [0.5]\n'
    "n_test = 3\nn0 = 20\nn = 500\n"
    '[[noises]]\nfamily = "gaussian"\n'
    '[certify]\ncertifiers = ["cohen"]\nalpha = [0.01]\n'
)


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("audit")
    cfg = tmp / "c.toml"
    cfg.write_text(CONFIG)
    path = tmp / "s.sqlite"
    assert main(["run", str(cfg), "--store", str(path), "--quiet"]) == 0
    return path


@pytest.mark.parametrize("images", ["0", "-2"])
def test_images_below_one_is_refused_before_anything_runs(tmp_path, store, capsys, images):
    out = tmp_path / "audit"
    argv = ["audit", str(store), "--quick", "--quiet", "--out", str(out), "--images", images]
    assert main(argv) == 2
    assert "--images must be >= 1" in capsys.readouterr().err
    assert not (out / "audit.txt").exists()
    with Store.open_existing(store, readonly=True) as st:
        assert st.audit_rows() == []


def test_images_reaches_the_attack_audit(tmp_path, store, capsys):
    out = tmp_path / "audit"
    argv = ["audit", str(store), "--quick", "--quiet", "--out", str(out), "--images", "3"]
    assert main(argv) in (0, 3)
    with Store.open_existing(store, readonly=True) as st:
        attacks = [r for r in st.audit_rows() if r.audit == "attack"]
    assert attacks and all(r.settings["images"] == 3 for r in attacks)
    assert capsys.readouterr().err == ""


def test_quiet_hides_the_bars_of_the_run_an_audit_of_a_config_makes(tmp_path, capsys):
    cfg = tmp_path / "c.toml"
    cfg.write_text(CONFIG)
    assert main(["audit", str(cfg), "--quick", "--quiet", "--out", str(tmp_path / "a")]) == 0
    assert capsys.readouterr().err == ""
    assert (tmp_path / "a" / "audit.txt").exists()
