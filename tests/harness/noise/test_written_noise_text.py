"""``split_noise_text`` on both ways a noise is written, against names built here from
their parts: a family, and keys with values that round-trip exactly (stripped, not
parsed); what is not ``key=value`` is ``None``, never silently dropped."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from harness.noise.written import split_noise_text

NAME = st.from_regex(r"[a-z][a-z0-9_]{0,10}", fullmatch=True)
VALUE = st.from_regex(r"[0-9a-z.+\-e]{1,8}", fullmatch=True)
SPACE = st.sampled_from(["", " ", "  "])


@given(family=NAME, params=st.dictionaries(NAME, VALUE, max_size=4), pad=SPACE)
def test_both_forms_split_into_the_family_and_its_parameters(family, params, pad):
    items = ",".join(f"{pad}{k}{pad}={pad}{v}{pad}" for k, v in params.items())
    stored = f"{pad}{family}({items}){pad}"
    written = f"{pad}{family}{pad}:{items}" if params else f"{pad}{family}{pad}"
    assert split_noise_text(stored) == (family, params)
    assert split_noise_text(written) == (family, params)


@pytest.mark.parametrize(
    "text",
    ["gaussian(sigma)", "gaussian:sigma", "gaussian(dim=64,sigma)", "laplace:scale=1,k"],
)
def test_an_item_that_is_not_key_equals_value_is_none(text):
    assert split_noise_text(text) is None


def test_a_value_holding_an_equals_sign_keeps_it():
    """The key ends at the first ``=``: the rest is the value, as written."""
    assert split_noise_text("f(a=b=c)") == ("f", {"a": "b=c"})


def test_text_after_the_closing_parenthesis_is_not_read_as_the_stored_form():
    """``gaussian(sigma=0.25)x`` is not ``gaussian(sigma=0.25)``: the stored form is the
    whole text."""
    got = split_noise_text("gaussian(sigma=0.25)x")
    assert got != ("gaussian", {"sigma": "0.25"})


def test_an_unclosed_parenthesis_is_not_the_stored_form():
    got = split_noise_text("gaussian(dim=64,sigma=0.25")
    assert got is None or got[1].get("sigma") != "0.25"


@pytest.mark.parametrize(
    "text", ["gaussian:sigma=0.25,sigma=0.5", "gaussian(dim=64,sigma=0.25, sigma =0.25)"]
)
def test_a_parameter_given_twice_is_refused_by_name(text):
    """The last value won: ``--noise gaussian:sigma=0.25,sigma=0.5`` imported rows as
    ``gaussian(dim=64,sigma=0.5)``."""
    with pytest.raises(ValueError, match="parameter 'sigma' is given twice"):
        split_noise_text(text)


def test_import_names_the_repeated_parameter(tmp_path, capsys):
    from harness.cli import main
    from tests.harness.test_interop import ROWS, write_cohen

    flat = write_cohen(tmp_path / "results.tsv", ROWS)
    store = tmp_path / "s.sqlite"
    argv = ["import", "cohen-tsv", str(flat), "--store", str(store), "--model", "m",
            "--noise", "gaussian:sigma=0.25,sigma=0.5", "--certifier", "cohen",
            "--norm", "l2", "--alpha", "0.001", "--dataset", "cifar10"]  # fmt: skip
    assert main(argv) == 2
    assert "parameter 'sigma' is given twice" in capsys.readouterr().err
    assert not store.exists()


def test_a_family_name_that_a_noise_text_cannot_hold_is_refused(plugins):
    """A family is written in noise texts (``family:key=value``, ``family(key=value)``):
    ``g:v2`` split as the family ``g``, ``g v2`` and ``g-v2`` missed the stored form."""
    from harness.noise import Gaussian

    for bad in ("g:v2", "g v2", "g-v2", "g(v2)"):
        with pytest.raises(ValueError, match="letters, digits and _ only"):
            plugins.noise(bad, type("G", (Gaussian,), {}))
    plugins.noise("λ_noise2", type("G", (Gaussian,), {}))
    assert split_noise_text("λ_noise2(dim=4,sigma=0.5)") == (
        "λ_noise2",
        {"dim": "4", "sigma": "0.5"},
    )
