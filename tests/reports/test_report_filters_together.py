"""The report's filters (``--certifier``, ``--model``, ``--norm``, ``--alpha``) are checked
against the whole store, each on its own, and then together. They were applied one after
another, each refused for what the earlier ones left, yet said "not in the store": a
stored alpha of another norm was "not in the store", and a model typed right was offered
another ("did you mean")."""

from __future__ import annotations

import dataclasses

import pandas as pd
import pytest

from reports.cli import _filter
from reports.settings import ReportSettings

OUTCOMES = pd.DataFrame(
    {
        "certifier": ["cohen", "cohen", "ibp", "cohen"],
        "model": ["m-smooth", "m-smooth", "m-ibp", "m-smooth"],
        "norm": ["l2", "linf", "linf", "l2"],
        "alpha": [0.001, 0.05, 0.001, 0.01],
    }
)


def _filtered(**chosen) -> pd.DataFrame:
    return _filter(OUTCOMES, dataclasses.replace(ReportSettings(), **chosen))


@pytest.mark.parametrize(
    ("chosen", "together", "hints"),
    [
        (
            {"norms": ["l2"], "alpha": 0.05},
            "--norm 'l2' and --alpha 0.05",
            [
                "with --alpha 0.05 it holds --norm 'linf'",
                "with --norm 'l2' it holds --alpha 0.001, 0.01",
            ],
        ),
        (
            {"certifiers": ["cohen"], "models": ["m-ibp"]},
            "--certifier 'cohen' and --model 'm-ibp'",
            [
                "with --model 'm-ibp' it holds --certifier 'ibp'",
                "with --certifier 'cohen' it holds --model 'm-smooth'",
            ],
        ),
    ],
)
def test_values_stored_but_not_together_are_named_as_such(chosen, together, hints):
    with pytest.raises(ValueError) as refused:
        _filtered(**chosen)
    message = str(refused.value)
    assert "is not in the store" not in message and "did you mean" not in message
    assert f"no certificate in the store has {together} together" in message
    for hint in hints:
        assert hint in message


def test_a_value_the_store_lacks_is_refused_with_all_it_holds():
    with pytest.raises(
        ValueError, match=r"--alpha 0\.2 is not in the store; stored: 0\.001, 0\.01, 0\.05"
    ):
        _filtered(norms=["l2"], alpha=0.2)
    with pytest.raises(ValueError, match="'m-ibp', 'm-smooth'"):
        _filtered(certifiers=["cohen"], models=["m-smoth"])


def test_the_filters_keep_what_matches_all_of_them():
    kept = _filtered(certifiers=["cohen"], norms=["l2"], alpha=0.01)
    assert len(kept) == 1 and kept.loc[0, "alpha"] == 0.01 and kept.loc[0, "norm"] == "l2"
    assert len(_filtered()) == len(OUTCOMES)
    assert set(_filtered(models=["m-ibp", "m-smooth"], norms=["linf"])["certifier"]) == {
        "cohen",
        "ibp",
    }


def test_an_alpha_of_more_than_six_digits_is_listed_in_full():
    """Listed by ``{:g}``, a stored 0.0012345678 read 0.00123457, so the alpha typed from a
    report title was refused as not stored while the message listed it (found by a
    reviewer)."""
    outcomes = pd.DataFrame(
        {
            "certifier": ["cohen"] * 2,
            "model": ["m"] * 2,
            "norm": ["l2"] * 2,
            "alpha": [0.0012345678, 0.05],
        }
    )
    settings = dataclasses.replace(ReportSettings(), alpha=0.00123457)
    with pytest.raises(
        ValueError, match=r"--alpha 0\.00123457 is not in the store; stored: 0\.0012345678, 0\.05"
    ):
        _filter(outcomes, settings)
