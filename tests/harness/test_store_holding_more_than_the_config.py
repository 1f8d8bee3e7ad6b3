"""A config of fewer models or noises than its store (the one a store began with, after
another session extended it, even one stopped before it sampled anything) is refused
with what the store holds beyond it and the way on, never with the advice to delete the
store, which would lose every count of the run."""

from __future__ import annotations

import pytest

from harness import runner
from harness.store import Store
from tests.harness.test_extending_a_store import (
    ADDED_NOISES,
    GAUSSIAN,
    LAPLACE,
    MODEL_A,
    MODEL_B,
    config,
)


def _refusal(cfg, path) -> str:
    with pytest.raises(ValueError) as err:
        runner.run(cfg, path, progress=False)
    return str(err.value)


def test_the_config_an_extension_began_from_is_told_what_the_store_holds_beyond_it(tmp_path):
    path = tmp_path / "s.sqlite"
    runner.run(config([MODEL_A], [GAUSSIAN]), path, progress=False)
    runner.run(config([MODEL_A, MODEL_B], [GAUSSIAN, LAPLACE]), path, progress=False,
               stop_after=0, certify=False)  # fmt: skip
    with Store(path) as st:  # nothing of the extension sampled; its plan is recorded
        assert {m for (m,) in st.query("SELECT DISTINCT model FROM counts")} == {"a"}
    message = _refusal(config([MODEL_A], [GAUSSIAN]), path)
    assert "holds more than this config asks for: model b, noise laplace as well" in message
    assert "the one that added them resumes it" in message
    assert "compared once they are built" in message  # said before the models are built
    assert "delete" not in message
    # a config short of one of them only names that one
    message = _refusal(config([MODEL_A, MODEL_B], [GAUSSIAN]), path)
    assert "asks for: noise laplace as well" in message
    runner.run(config([MODEL_A, MODEL_B], [GAUSSIAN, LAPLACE]), path, progress=False)


def test_a_config_that_also_changes_something_else_names_that_difference(tmp_path):
    path = tmp_path / "s.sqlite"
    runner.run(config([MODEL_A], [GAUSSIAN, LAPLACE]), path, progress=False, certify=False)
    fewer_and_other = config([MODEL_A], [GAUSSIAN], n=300)  # a noise fewer, and n differs
    message = _refusal(fewer_and_other, path)
    assert "holds more than" not in message and "differs in" in message
    swapped = _refusal(config([MODEL_A], [GAUSSIAN, ADDED_NOISES[0]]), path)  # one swapped
    assert "extends a store only by adding models and noises: every stored one stays" in swapped


def test_a_changed_setting_is_not_told_about_adding(tmp_path):
    """The note on extending goes with a stored model or noise left out, not with a
    changed run setting or model."""
    path = tmp_path / "s.sqlite"
    runner.run(config([MODEL_A], [GAUSSIAN]), path, progress=False, certify=False)
    message = _refusal(config([MODEL_A], [GAUSSIAN], channels_last=True), path)
    assert "channels_last" in message and "only by adding" not in message
    message = _refusal(config([{**MODEL_A, "sigma0": 0.5}], [GAUSSIAN]), path)
    assert "differs in 'models'" in message and "only by adding" not in message


def test_the_config_a_store_began_with_after_another_added_a_model_alone(tmp_path, monkeypatch):
    """Only a model added (no noise): the check before the models are built told the
    config it differs and to delete the store (found by a reviewer)."""
    path = tmp_path / "s.sqlite"
    runner.run(config([MODEL_A], [GAUSSIAN], n_test=2), path, progress=False, certify=False)
    runner.run(config([MODEL_A, MODEL_B], [GAUSSIAN], n_test=2), path, progress=False,
               stop_after=0, certify=False)  # fmt: skip
    monkeypatch.setattr(runner, "build_models", None)  # refused before any is built
    message = _refusal(config([MODEL_A], [GAUSSIAN], n_test=2), path)
    assert "holds more than this config asks for: model b as well" in message
    assert "delete" not in message
