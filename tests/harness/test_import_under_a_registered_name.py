"""Rows imported under a registered certifier's name claim its certificates: a
deterministic certifier's name (``ibp``: a bound over an input box, no noise) or one
that does not certify the noise against the norm is refused (the leaderboard showed a
row "Gaussian · ibp"); a name close to a registered one is warned of, since its radii
then go unchecked (``--certifier cohn``)."""

from __future__ import annotations

import pytest

from harness.cli import main
from harness.store import Store
from tests.harness.test_interop import ROWS, write_cohen


def _import(tmp_path, certifier, noise="gaussian:sigma=0.5", norm="l2"):
    flat = write_cohen(tmp_path / "results.tsv", ROWS)
    return main(["import", "cohen-tsv", str(flat), "--store", str(tmp_path / "s.sqlite"),
                 "--model", "m", "--noise", noise, "--certifier", certifier, "--norm", norm,
                 "--alpha", "0.001", "--dataset", "cifar10"])  # fmt: skip


@pytest.mark.parametrize("certifier", ["ibp", "crown"])
def test_a_deterministic_certifiers_name_is_refused(tmp_path, capsys, certifier):
    assert _import(tmp_path, certifier) == 2
    assert f"{certifier!r} is a deterministic certifier" in capsys.readouterr().err
    assert not (tmp_path / "s.sqlite").exists()


def test_a_certifier_that_does_not_certify_the_noise_is_refused(tmp_path, capsys):
    """Cohen et al.'s certificate is of a Gaussian noise: rows of a Laplace one are not it."""
    assert _import(tmp_path, "cohen", noise="laplace:scale=0.5") == 2
    assert "does not certify laplace" in capsys.readouterr().err
    assert _import(tmp_path, "cohen") == 0


def test_a_stored_noise_named_as_stored_is_checked_as_well(tmp_path, capsys):
    """``--noise 'laplace(dim=3072,scale=0.5)'``, a noise the store holds, comes without a
    spec of its own: the check was skipped and Cohen's name took Laplace rows."""
    assert _import(tmp_path, "mine", noise="laplace:scale=0.5", norm="l1") == 0
    capsys.readouterr()
    assert _import(tmp_path, "cohen", noise="laplace(dim=3072,scale=0.5)") == 2
    assert "does not certify laplace" in capsys.readouterr().err


def test_a_name_close_to_a_registered_one_is_warned_of(tmp_path):
    with pytest.warns(UserWarning, match="did you mean 'cohen'"):
        assert _import(tmp_path, "cohn") == 0
    with Store(tmp_path / "s.sqlite", readonly=True) as st:
        assert {c for (c,) in st.query("SELECT DISTINCT certifier FROM imported")} == {"cohn"}


def test_a_name_of_its_own_is_imported_quietly(tmp_path, recwarn):
    assert _import(tmp_path, "macer") == 0
    assert not [w for w in recwarn if "not registered" in str(w.message)]
