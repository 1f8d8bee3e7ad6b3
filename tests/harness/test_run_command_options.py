"""``smoothbench run``: every option reaches the run, and a bad one is a clear error."""

from __future__ import annotations

import pytest

from harness import runner
from harness.cli import main
from harness.store import Store


def _config(tmp_path, n_test=2):
    cfg = tmp_path / "c.toml"
    cfg.write_text(
        '[run]\nname = "t"\ndataset = "digits"\narch = "mlp"\ntrain_sigmas = [0.5]\n'
        f'n_test = {n_test}\nn0 = 10\nn = 100\n[[noises]]\nfamily = "gaussian"\n'
        '[certify]\ncertifiers = ["cohen"]\n'
    )
    return cfg


@pytest.fixture
def calls(monkeypatch):
    seen = []

    def fake_run(cfg, store, **kwargs):
        seen.append((store, kwargs))
        return store

    monkeypatch.setattr(runner, "run", fake_run)
    return seen


def test_the_run_gets_every_option_given(tmp_path, calls):
    store = tmp_path / "s.sqlite"
    argv = ["run", str(_config(tmp_path)), "--store", str(store), "--device", "cpu",
            "--executor", "ray", "--address", "auto", "--workers", "3", "--quiet",
            "--no-certify", "--no-keep-freed-memory"]  # fmt: skip
    assert main(argv) == 0
    ((where, kwargs),) = calls
    assert where == store
    assert kwargs["device"] == "cpu" and kwargs["executor"] == "ray"
    assert kwargs["address"] == "auto" and kwargs["workers"] == 3
    assert kwargs["progress"] is False and kwargs["certify"] is False
    assert kwargs["keep_freed_memory"] is False


def test_the_runs_defaults(tmp_path, calls):
    assert main(["run", str(_config(tmp_path)), "--store", str(tmp_path / "s.sqlite")]) == 0
    ((_, kwargs),) = calls
    assert kwargs["device"] is None and kwargs["executor"] == "local"
    assert kwargs["address"] is None and kwargs["workers"] is None
    assert kwargs["progress"] is True and kwargs["certify"] is True


@pytest.mark.parametrize(
    "extra", [["--workers", "2"], ["--address", "auto"], ["--executor", "local", "--workers", "2"]]
)
def test_ray_options_without_the_ray_executor_are_refused(tmp_path, calls, capsys, extra):
    argv = ["run", str(_config(tmp_path)), "--store", str(tmp_path / "s.sqlite"), *extra]
    assert main(argv) == 2
    assert "--executor ray" in capsys.readouterr().err
    assert calls == []  # refused before anything runs


@pytest.mark.parametrize("threads", ["0", "-1"])
def test_threads_below_one_is_a_clear_error(tmp_path, calls, capsys, threads):
    argv = [
        "run",
        str(_config(tmp_path)),
        "--store",
        str(tmp_path / "s.sqlite"),
        "--threads",
        threads,
    ]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "--threads must be >= 1" in err and "internal error" not in err
    assert calls == []


def test_quiet_shows_no_progress_and_the_default_does(tmp_path, capsys):
    cfg = _config(tmp_path)
    assert main(["run", str(cfg), "--store", str(tmp_path / "q.sqlite"), "--quiet"]) == 0
    quiet = capsys.readouterr().err
    assert main(["run", str(cfg), "--store", str(tmp_path / "p.sqlite")]) == 0
    shown = capsys.readouterr().err
    assert "img" not in quiet and "%" not in quiet
    assert "img" in shown
    for name in ("q.sqlite", "p.sqlite"):
        with Store(tmp_path / name, readonly=True) as st:
            assert len(st.done_keys()) == 2
