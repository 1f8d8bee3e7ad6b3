"""Every CLI failure is one clear line on stderr with exit code 2 (bad input) or 1 (the
environment), never a traceback unless ``--debug``."""

from __future__ import annotations

import argparse
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from harness.cli import main
from harness.cli.parser import real_number
from harness.store import Store


def _fails(capsys, argv, code, needle):
    assert main(argv) == code
    err = capsys.readouterr().err
    assert "Traceback" not in err and err.count("\n") == 1, err
    assert needle in err, err
    return err


def test_store_paths_that_are_no_store(tmp_path, capsys):
    # a folder is named as one (it was "no store at", as if nothing were there; CLI audit)
    for command in (["report"], ["certify"], ["export", "cohen-tsv"]):
        _fails(capsys, [*command, str(tmp_path)], 2, f"{tmp_path} is a directory, not a store")
    _fails(capsys, ["report", str(tmp_path / "none.sqlite")], 2, "no store at")
    (tmp_path / "file").write_text("x")
    _fails(capsys, ["report", str(tmp_path / "file")], 2, "not an SQLite file")
    foreign = tmp_path / "foreign.sqlite"
    db = sqlite3.connect(foreign)
    db.execute("CREATE TABLE t (x)")
    db.commit()
    db.close()
    _fails(capsys, ["certify", str(foreign)], 2, "something else")


def test_a_busy_store_is_one_line(tmp_path, capsys):
    path = tmp_path / "s.sqlite"
    with Store(path):
        _fails(capsys, ["certify", str(path)], 2, "being written by process")


def test_report_out_under_a_file(tmp_path, capsys):
    from tests.reports._report_synth import winner_store

    winner_store(tmp_path / "s.sqlite", n_images=20).close()
    (tmp_path / "f").write_text("x")
    out = tmp_path / "f" / "o" / "deeper"
    # bad input, found before the report is made (mkdir would find it only after)
    _fails(capsys, ["report", str(tmp_path / "s.sqlite"), "--out", str(out)],
           2, f"{tmp_path / 'f'} is a file, so no folder can be made below it")  # fmt: skip
    assert (tmp_path / "f").read_text() == "x"


def test_debug_shows_the_traceback(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "harness.cli", "--debug", "report", str(tmp_path / "none")],
        capture_output=True, text=True,
    )  # fmt: skip
    assert proc.returncode == 2 and "Traceback" in proc.stderr  # bad input, as without it
    proc = subprocess.run(
        [sys.executable, "-m", "harness.cli", "report", str(tmp_path / "none")],
        capture_output=True, text=True,
    )  # fmt: skip
    assert proc.returncode == 2 and "Traceback" not in proc.stderr


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (RuntimeError("a bug"), 1),
        (OSError(28, "No space left on device"), 1),
        (KeyError("k"), 2),
        (KeyboardInterrupt(), 130),  # Ctrl-C, and SIGTERM, which the command line raises so
    ],
)
def test_debug_keeps_the_exit_code(monkeypatch, capsys, error, code):
    """``--debug`` swaps the one line for the traceback; the exit code stays what the
    error's kind gives (scripts that test it behave alike with and without it)."""
    from harness.cli import list_command

    def fail(args):
        raise error

    monkeypatch.setattr(list_command, "main", fail)
    assert main(["--debug", "list"]) == code
    assert "Traceback" in capsys.readouterr().err
    assert main(["list"]) == code
    assert "Traceback" not in capsys.readouterr().err


@pytest.mark.parametrize(
    "argv",
    [
        ["plan", "draws", "--sigma", "-1", "--radius", "0.5", "--p", "0.9"],
        ["plan", "draws", "--sigma", "inf", "--radius", "0.5", "--p", "0.9"],
        ["plan", "draws", "--sigma", "0.25", "--radius", "nan", "--p", "0.9"],
        ["plan", "draws", "--sigma", "0.25", "--radius", "inf", "--p", "0.9"],
        ["plan", "images", "--base", "2", "--gap", "0.1"],
        [
            "compare",
            "missing.sqlite",
            "--first",
            "a",
            "b",
            "c",
            "--second",
            "a",
            "b",
            "c",
            "--norm",
            "l2",
            "--radius",
            "1",
        ],
    ],  # fmt: skip
)
def test_bad_arguments_are_one_line(argv, capsys):
    assert main(argv) == 2
    assert "Traceback" not in capsys.readouterr().err


def test_a_plan_given_percent_is_told_to_give_fractions(capsys):
    assert main(["plan", "images", "--base", "50", "--gap", "1"]) == 2
    assert "--base 0.5 --gap 0.01" in capsys.readouterr().err


def test_warnings_are_one_line_without_the_source(monkeypatch):
    """While a command runs, a warning prints as one line naming the command (no source
    line); the formatter is restored afterwards."""
    import warnings

    from harness.cli import list_command

    seen = []

    def warns(args):
        text = "the data is not\n the official batch"
        seen.append(warnings.formatwarning(text, UserWarning, "datasets.py", 236, "source()"))
        return 0

    before = warnings.formatwarning
    monkeypatch.setattr(list_command, "main", warns)
    assert main(["list"]) == 0
    assert seen == ["smoothbench list: warning: the data is not the official batch\n"]
    assert warnings.formatwarning is before


@pytest.mark.parametrize(
    "device, needle",
    [
        ("gpu", "device 'gpu' is not a device"),
        ("", "device '' is not a device"),
        (" ", "device ' ' is not a device"),
        ("meta", "device 'meta' cannot run a model here"),
        ("cuda:9", "device 'cuda:9' was asked for but"),
    ],
)
def test_device_strings_are_one_line(tmp_path, capsys, device, needle):
    cfg = tmp_path / "c.toml"
    cfg.write_text('[run]\ndataset = "digits"\narch = "mlp"\ntrain_sigmas = [0.5]\nn_test = 2\n')
    store = tmp_path / "s.sqlite"
    _fails(capsys, ["run", str(cfg), "--store", str(store), "--device", device], 2, needle)
    assert not store.exists()


def test_a_config_device_is_checked_at_parse_time():
    from harness.config import ConfigError, parse

    run = {"dataset": "digits", "arch": "mlp", "train_sigmas": [0.5]}
    for device in ("gpu", "", "meta"):
        with pytest.raises(ConfigError, match="'run.device'"):
            parse({"run": {**run, "device": device}})
    assert parse({"run": {**run, "device": "cuda:3"}}).device == "cuda:3"  # checked at run


def test_an_absent_gpu_index_is_refused(monkeypatch):
    import torch

    from harness.draws import resolve_device

    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    assert resolve_device("cuda:1") == torch.device("cuda:1")
    with pytest.raises(ValueError, match="has 2 GPU\\(s\\) \\(cuda:0 to cuda:1\\)"):
        resolve_device("cuda:9")


def test_audit_quick_shrinks_a_validated_config():
    """``audit --quick`` validates the config as ``run`` does, then shrinks its budget: the
    shipped CIFAR-10 config (a named subset) becomes the subset's first 4 images, and a
    config ``run`` refuses (n0 > n) is refused, not repaired."""
    import tomllib

    from harness.cli.audit_command import audit_config
    from harness.config import ConfigError

    raw = tomllib.loads((Path(__file__).parents[2] / "configs" / "cifar10.toml").read_text())
    full = audit_config(raw, quick=False)
    quick = audit_config(raw, quick=True)
    assert quick.index_stride == full.index_stride == 20
    assert quick.n_test == 4 and quick.n == 1000 and quick.n0 == 100
    assert (quick.noises, quick.models, quick.seed) == (full.noises, full.models, full.seed)
    assert "subset" in raw["run"]  # the caller's dict is left as it was
    bad = {**raw, "run": {**raw["run"], "n0": 800, "n": 500}}
    with pytest.raises(ConfigError, match="n0"):
        audit_config(bad, quick=True)


@pytest.mark.parametrize(
    "norm,noise,extra,message",
    [
        ("l2", "gaussian", ["--radius", "nan"], "--radius must be a finite number >= 0"),
        ("l2", "gaussian", ["--radius", "-1"], "--radius must be a finite number >= 0"),
        ("l2", "gaussian", ["--radius", "0.5", "--alpha", "0.05"], "no certificates at alpha"),
        ("l1", "gaussian", ["--radius", "0.5"], "no certificates against l1; stored"),
        ("l2", "laplace", ["--radius", "0.5"], "'laplace' is none of model 'm-win'"),
    ],
)
def test_compare_names_what_is_wrong(tmp_path, capsys, norm, noise, extra, message):
    """A radius that is not a finite number >= 0, or an alpha, norm or noise the store does
    not hold, is named as such (it used to compare at r = nan, or say 'unknown model', or
    ask for more of a noise's name that matched none)."""
    from tests.reports._report_synth import winner_store

    path = tmp_path / "s.sqlite"
    winner_store(path).close()
    args = ["compare", str(path), "--first", "m-win", noise, "cohen", "--second",
            "m-mid", "gaussian", "cohen", "--norm", norm, *extra]  # fmt: skip
    assert main(args) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


@pytest.mark.parametrize(
    "argv",
    [["export", "--", "cohen-tsv", "--"], ["export", "cohen-tsv", "--", "--"]],
)
def test_a_positional_given_as_a_double_dash_is_a_usage_error(argv, capsys):
    """argparse gives the store ``[]`` here instead of an error; it was an internal error
    (found by the CLI fuzz test)."""
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    assert exit_.value.code == 2
    last = capsys.readouterr().err.splitlines()[-1]
    assert last == "smoothbench export: error: argument store: expected one value"


@pytest.mark.parametrize(
    "argv,last",
    [
        (["run", "configs/default.toml", "--executor", "rey"],
         "smoothbench run: error: argument --executor: invalid choice: 'rey'; did you mean "
         "'ray'? choose from: ['local', 'ray']"),
        (["reprt", "out/default.sqlite"],
         "smoothbench: error: argument command: invalid choice: 'reprt'; did you mean 'report'"),
        (["run", "configs/default.toml", "--exector", "ray"],
         "smoothbench run: error: unrecognized arguments: --exector ray; did you mean "
         "'--executor'"),
        (["report", "s.sqlite", "--norm", "l2", "lnif"],
         "smoothbench report: error: argument --norm: invalid choice: 'lnif'; did you mean "
         "'linf'? choose from: ['l1', 'l2', 'linf']"),
        (["list", "--bogus"], "smoothbench list: error: unrecognized arguments: --bogus"),
        # an option of a sub-command's sub-command (plan's own parser knew no --alpha)
        (["plan", "draws", "--sigma", "0.25", "--radius", "0.5", "--p", "0.99", "--alfa", "0.01"],
         "smoothbench plan draws: error: unrecognized arguments: --alfa 0.01; did you mean "
         "'--alpha'"),
    ],
)  # fmt: skip
def test_a_mistyped_choice_or_option_is_offered_the_closest(argv, last, capsys):
    """argparse's usage errors (exit 2), with the closest known names where one is close
    (Python 3.14's suggest_on_error, here on 3.11)."""
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    assert exit_.value.code == 2
    err = capsys.readouterr().err.splitlines()[-1]
    assert err.startswith(last), err
    if "did you mean" not in last:
        assert "did you mean" not in err


@pytest.mark.parametrize("command", ["export", "audit"])
def test_export_and_audit_out_under_a_file(tmp_path, capsys, command):
    """Refused as bad input before anything is exported or audited (the audit takes
    minutes), not found by ``mkdir`` after."""
    from tests.reports._report_synth import winner_store

    winner_store(tmp_path / "s.sqlite", n_images=4).close()
    (tmp_path / "f").write_text("x")
    before = sorted(p.name for p in tmp_path.iterdir())
    argv = {"export": ["export", "cohen-tsv"], "audit": ["audit"]}[command]
    _fails(capsys, [*argv, str(tmp_path / "s.sqlite"), "--out", str(tmp_path / "f" / "o")],
           2, f"{tmp_path / 'f'} is a file, so no folder can be made below it")  # fmt: skip
    assert sorted(p.name for p in tmp_path.iterdir()) == before


@pytest.mark.parametrize(
    ("name", "content", "needle"),
    [
        ("corrupt.sqlite", bytes(range(256)) * 4, "is not a smoothbench store (not an SQLite"),
        ("empty.sqlite", b"", "is not a smoothbench store (not an SQLite"),
        ("binary.bin", bytes(range(256)) * 4, "is neither a store (not an SQLite file) nor a TOML"),
    ],
)
def test_audit_of_a_file_that_is_neither_a_store_nor_a_config_names_it(
    tmp_path, capsys, name, content, needle
):
    """``audit`` read every file that is not SQLite as a TOML config: random bytes gave
    "'utf-8' codec can't decode ..." naming no file, an empty store "the [run] section is
    missing" (CLI audit)."""
    bad = tmp_path / name
    bad.write_bytes(content)
    _fails(
        capsys, ["audit", str(bad), "--quick", "--out", str(tmp_path / "a")], 2, f"{bad} {needle}"
    )


@pytest.mark.parametrize(
    ("argv", "option", "written", "read"),
    [
        (["certify", "s.sqlite", "--alpha", "1e-400"], "--alpha", "1e-400", "0.0"),
        (["report", "s.sqlite", "--alpha=-1e-999"], "--alpha", "-1e-999", "-0.0"),
        (
            ["plan", "draws", "--sigma", "1e400", "--radius", "1", "--p", "0.9"],
            "--sigma",
            "1e400",
            "inf",
        ),
        (
            ["plan", "images", "--base", "0.5", "--gap", "0.1", "--level", "1e-324"],
            "--level",
            "1e-324",
            "0.0",
        ),
    ],
)
def test_a_number_no_double_holds_is_named_as_written(argv, option, written, read, capsys):
    """``--alpha 1e-400`` was read as 0 and refused as "alpha must lie in (0, 1), got 0.0":
    a value nobody gave."""
    with pytest.raises(SystemExit) as refused:  # argparse's error
        main(argv)
    assert refused.value.code == 2
    err = capsys.readouterr().err
    assert f"argument {option}: {written} lies beyond what a double holds" in err
    assert f"(it reads as {read})" in err and "got 0.0" not in err


@pytest.mark.parametrize("text", ["1e-99999999999999999999999", "-1e99999999999999999999999"])
def test_a_number_of_an_exponent_beyond_decimals_is_refused_too(text):
    """Decimal holds exponents up to about 1e18: beyond, the check was skipped and the
    number read as 0 or infinity unrefused (found by a reviewer)."""
    with pytest.raises(argparse.ArgumentTypeError, match="lies beyond what a double holds"):
        real_number(text)
    assert real_number("0e-99999999999999999999999") == 0.0 and real_number("-inf") < 0
