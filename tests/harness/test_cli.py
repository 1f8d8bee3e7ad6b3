import platform
import subprocess
import sys

import pytest

from harness.cli import main
from harness.store import Store


@pytest.mark.parametrize(
    "cmd", [[], ["run"], ["certify"], ["report"], ["import"], ["export"], ["list"]]
)
def test_help(cmd, capsys):
    with pytest.raises(SystemExit) as exc:
        main([*cmd, "--help"])
    assert exc.value.code == 0
    assert "usage: smoothbench" in capsys.readouterr().out


def test_run_certify_report(tmp_path):
    cfg = tmp_path / "c.toml"
    cfg.write_text(
        '[run]\nname = "t"\ndataset = "digits"\narch = "mlp"\ntrain_sigmas = [0.5]\n'
        'n_test = 4\nn0 = 10\nn = 200\n[[noises]]\nfamily = "gaussian"\n'
        '[certify]\ncertifiers = ["cohen"]\n'
    )
    store = tmp_path / "s.sqlite"
    assert main(["run", str(cfg), "--store", str(store), "--quiet"]) == 0
    with Store(store) as st:  # the CLI keeps freed host memory by default (glibc)
        kept = st.manifest()["host_memory"].startswith("glibc, freed memory kept")
    assert kept or platform.libc_ver()[0] != "glibc"
    assert main(["certify", str(store), "--alpha", "0.01", "--quiet"]) == 0
    out = tmp_path / "out"
    assert main(["report", str(store), "--out", str(out)]) == 0
    assert (out / "leaderboard.md").read_text().count("cohen") >= 3


def test_errors_are_reported_not_raised(tmp_path, capsys):
    cfg = tmp_path / "c.toml"
    cfg.write_text('[run]\ndataset = "digits"\narch = "mlp"\ntrain_sigmas = [0.5]\nn0 = 0\n')
    assert main(["run", str(cfg), "--store", str(tmp_path / "s.sqlite")]) == 2
    assert "run.n0" in capsys.readouterr().err
    assert main(["report", str(tmp_path / "missing.sqlite")]) == 2


def test_console_module_entry():
    out = subprocess.run(
        [sys.executable, "-m", "harness.cli", "list"], capture_output=True, text=True, check=True
    )
    assert "cohen" in out.stdout and "gaussian" in out.stdout
    assert "cifar_resnet110" in out.stdout and "state_dict" in out.stdout
    assert "cohen2019-cifar10-resnet110-noise0.25" in out.stdout


def test_plan_images_and_draws(capsys):
    from scipy.stats import norm

    from certifiers.bounds import clopper_pearson_lower
    from reports import stats

    assert main(["plan", "images", "--base", "0.49", "--gap", "0.01"]) == 0
    text = capsys.readouterr().out
    assert f"{stats.unpaired_sample_size(0.5, 0.49).n:,} images per arm" in text
    assert main(["plan", "draws", "--sigma", "0.25", "--radius", "0.5", "--p", "0.99"]) == 0
    text = capsys.readouterr().out
    n = int(text.split("about ")[1].split(" ")[0].replace(",", ""))
    need = norm.cdf(0.5 / 0.25)
    assert clopper_pearson_lower(int(0.99 * n), n, 0.001) >= need  # enough at n
    assert clopper_pearson_lower(int(0.99 * (n - 1)), n - 1, 0.001) < need  # not at n - 1
    assert main(["plan", "draws", "--sigma", "0.25", "--radius", "0.5", "--p", "0.9"]) == 0
    assert "not reachable" in capsys.readouterr().out
    assert main(["plan", "images", "--base", "0.99", "--gap", "0.05"]) == 2


def test_run_ctrl_c_says_how_to_resume(tmp_path, monkeypatch, capsys):
    from harness import runner

    cfg = tmp_path / "c.toml"
    cfg.write_text(
        '[run]\nname = "t"\ndataset = "digits"\narch = "mlp"\ntrain_sigmas = [0.5]\n'
        "n_test = 2\nn = 100\n"
    )

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(runner, "run", interrupted)
    rc = main(["run", str(cfg), "--store", str(tmp_path / "s.sqlite"), "--threads", "1"])
    assert rc == 130
    out = capsys.readouterr().out
    assert "interrupted" in out and "run the same command again to resume" in out
    assert "Traceback" not in out


def test_run_refuses_ray_arguments_without_the_ray_executor(tmp_path, capsys):
    cfg = tmp_path / "c.toml"
    cfg.write_text(
        '[run]\ndataset = "digits"\narch = "mlp"\ntrain_sigmas = [0.5]\nn_test = 2\n'
        '[[noises]]\nfamily = "gaussian"\n'
    )
    assert main(["run", str(cfg), "--address", "auto", "--store", str(tmp_path / "s")]) == 2
    assert "--executor ray" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["run", str(cfg), "--executor", "dask"])
