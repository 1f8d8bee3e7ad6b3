"""What a run would find out only after its work, or never, is refused when the config is
read: a config with nothing to sample or certify (it ran, stored nothing and said
"counts and certificates in ..."), alphas or training sigmas that differ but print alike
(two report tables of one title, files written over each other; two models of one name),
and an alpha below the smallest normal
double (``plan draws`` at 1e-320 gave a 90% budget below its 50% one). A reference the
run never certifies with is said at once."""

from __future__ import annotations

import copy

import pytest

from certifiers.bounds import SMALLEST_ALPHA, alpha_printed_alike, check_alpha
from harness.certify import certify_store
from harness.cli import main
from harness.config import ConfigError, parse
from harness.store import Store
from tests.harness._stores import counts_store

BASE = {
    "run": {"dataset": "digits", "n_test": 2, "n0": 10, "n": 100, "device": "cpu"},
    "models": [{"recipe": "mlp", "sigma0": 0.25}],
    "certify": {"certifiers": ["cohen"], "norms": ["l2"]},
}


def _with(**sections) -> dict:
    data = copy.deepcopy(BASE)
    for section, table in sections.items():
        data[section] = {**data.get(section, {}), **table} if section != "models" else table
    return data


def test_a_config_with_nothing_to_do_is_refused():
    unsmoothed = [{"recipe": "mlp", "smoothing": False}]
    with pytest.raises(ConfigError, match="would sample and certify nothing"):
        parse(_with(models=unsmoothed))
    parse(_with(models=unsmoothed, certify={"certifiers": ["ibp"]}))  # IBP certifies it
    parse(_with(models=unsmoothed, certify={"certifiers": ["all"]}))


def test_a_reference_the_run_never_certifies_with_is_said():
    """Said, not refused: the store may hold its rows from an earlier certify."""
    with pytest.warns(UserWarning, match="'report.reference' is 'functional'.*from elsewhere"):
        parse(_with(report={"reference": "functional"}))
    parse(_with(report={"reference": "functional"}, certify={"certifiers": ["all"]}))
    parse(_with(report={"reference": "wulff"}, certify={"certifiers": ["wulff", "cohen"]}))
    parse(_with(certify={"certifiers": ["wulff"]}))  # the default: report --reference


@pytest.mark.parametrize("alphas", [[0.001, 0.0010000000000000002], [0.05, 0.05 + 1e-12]])
def test_alphas_that_print_alike_are_refused(alphas):
    with pytest.raises(ConfigError, match=r"'certify.alpha\[1\]'.*print as"):
        parse(_with(certify={"alpha": alphas}))
    parse(_with(certify={"alpha": [0.001, 0.0010001]}))  # six digits tell them apart


def test_certify_refuses_an_alpha_that_prints_as_a_stored_one(tmp_path, capsys):
    path = tmp_path / "s.sqlite"
    counts_store(path, images=3)
    assert main(["certify", str(path), "--certifier", "cohen", "--alpha", "0.001", "--quiet"]) == 0
    argv = ["certify", str(path), "--certifier", "cohen", "--quiet"]
    assert main([*argv, "--alpha", "0.0010000000000000002"]) == 2
    assert "prints as 0.001, as 0.001 does" in capsys.readouterr().err
    with Store(path) as st:
        with pytest.raises(ValueError, match="prints as 0.05"):
            certify_store(st, ["cohen"], ["l2"], [0.05, 0.05 + 1e-12], progress=False)
        assert {a for (a,) in st.query("SELECT DISTINCT alpha FROM certificates")} == {0.001}


def _store_of_alphas_alike(tmp_path, monkeypatch):
    """A store certified at two alphas printed alike, as one made before they were
    refused; its path and the two alphas."""
    from harness import certify

    path = tmp_path / "s.sqlite"
    counts_store(path, images=3)
    alike = [0.001, 0.0010000000000000002]
    with Store(path) as st, monkeypatch.context() as before:
        before.setattr(certify, "_refuse_alphas_printed_alike", lambda *args: None)
        certify_store(st, ["cohen"], ["l2"], alike, progress=False)
    return path, alike


def _import_at_an_alpha(flat, path) -> list[str]:
    """``import cohen-tsv`` of ``flat`` into ``path`` as model m2, but for the alpha."""
    return ["import", "cohen-tsv", str(flat), "--store", str(path), "--model", "m2",
            "--noise", "gaussian:sigma=0.5", "--certifier", "cohen", "--norm", "l2",
            "--dataset", "digits", "--alpha"]  # fmt: skip


def test_a_store_holding_alphas_printed_alike_is_certified_again_at_either(tmp_path, monkeypatch):
    """Made before such alphas were refused: certifying one of them again adds no table,
    so it is not refused (it was, at both)."""
    path, alike = _store_of_alphas_alike(tmp_path, monkeypatch)
    with Store(path) as st:
        for alpha in alike:
            assert certify_store(st, ["cohen"], ["l2"], [alpha], progress=False) > 0
        with pytest.raises(ValueError, match="prints as 0.001"):
            certify_store(st, ["cohen"], ["l2"], [0.0010000000000000004], progress=False)


def test_import_into_a_store_holding_alphas_printed_alike_is_taken_at_either(
    tmp_path, monkeypatch, capsys
):
    """The twin of certify's case: import was refused at an alpha the store holds."""
    from baselines.datasets import load_digits
    from tests.harness.test_interop import write_cohen

    path, alike = _store_of_alphas_alike(tmp_path, monkeypatch)
    data = load_digits()
    rows = [(int(i), int(data.labels[i]), int(data.labels[i]), 0.1, 1.0)
            for i in data.test_indices[:4]]  # fmt: skip
    flat = write_cohen(tmp_path / "results.tsv", rows)
    argv = _import_at_an_alpha(flat, path)
    assert main([*argv, "0.0010000000000000004"]) == 2
    assert "prints as 0.001" in capsys.readouterr().err
    assert main([*argv, "0.001"]) == 0, capsys.readouterr().err


def test_alphas_printed_alike_against_their_printing():
    assert alpha_printed_alike(0.001, [0.01, 0.001]) is None  # equal is not alike
    assert alpha_printed_alike(0.001, [0.0010000000000000002, 0.001]) is None  # held
    assert alpha_printed_alike(0.001, [0.01, 0.0010000001]) == 0.0010000001
    assert f"{0.001:g}" == f"{0.0010000001:g}"


def test_training_sigmas_that_name_one_model_twice_are_refused():
    short = {"dataset": "digits", "n_test": 2, "n0": 10, "n": 100, "arch": "mlp"}
    data = {"run": {**short, "train_sigmas": [0.25, 0.2500001]}, "certify": BASE["certify"]}
    with pytest.raises(ConfigError, match=r"'run.train_sigmas\[1\]'.*both models would be named"):
        parse(data)
    parse({**data, "run": {**short, "train_sigmas": [0.25, 0.2501]}})


def test_an_alpha_below_the_smallest_normal_double_is_refused(capsys):
    assert SMALLEST_ALPHA == 2.0**-1022
    check_alpha(SMALLEST_ALPHA)
    for alpha in (1e-320, SMALLEST_ALPHA / 2):
        with pytest.raises(ValueError, match="below 2.23e-308"):
            check_alpha(alpha)
    with pytest.raises(ConfigError, match=r"'certify.alpha\[0\]'.*below"):
        parse(_with(certify={"alpha": [1e-320]}))
    argv = ["plan", "draws", "--sigma", "0.25", "--radius", "0.5", "--p", "0.99"]
    assert main([*argv, "--alpha", "1e-320"]) == 2
    assert "--alpha: alpha 1e-320 is below" in capsys.readouterr().err


def test_import_refuses_an_alpha_that_prints_as_a_stored_one(tmp_path, capsys):
    from tests.harness.test_interop import ROWS, write_cohen

    path = tmp_path / "s.sqlite"
    counts_store(path, images=3)
    assert main(["certify", str(path), "--certifier", "cohen", "--alpha", "0.001", "--quiet"]) == 0
    flat = write_cohen(tmp_path / "results.tsv", ROWS)
    argv = _import_at_an_alpha(flat, path)
    assert main([*argv, "0.0010000000000000002"]) == 2
    assert "prints as 0.001, as the store's 0.001 does" in capsys.readouterr().err
    assert main([*argv, "1e-320"]) == 2
    assert "below 2.23e-308" in capsys.readouterr().err
    with Store(path, readonly=True) as st:
        assert st.certificate_alphas() == [0.001]
