"""A run into a store that holds another run is refused before any model is built: the
parts of the identity that need no model (seed, budgets, data, noises, sampling options)
are compared first, so a typo in the seed does not cost a minute of training first."""

from __future__ import annotations

import pytest

from harness import runner
from tests.harness.test_runner import tiny


def test_a_stored_run_of_another_seed_is_refused_before_any_model_is_built(tmp_path, monkeypatch):
    path = tmp_path / "s.sqlite"
    runner.run(tiny(), path, progress=False, stop_after=1, certify=False)

    def no_training(*args, **kwargs):
        raise AssertionError("models were built before the stored run was compared")

    monkeypatch.setattr(runner, "build_models", no_training)
    with pytest.raises(ValueError, match="differs in 'seed'"):
        runner.run(tiny(seed=4), path, progress=False)
    with pytest.raises(ValueError, match="differs in 'n'"):
        runner.run(tiny(n=700), path, progress=False)


def test_the_same_run_or_a_new_store_goes_on_to_the_models(tmp_path, monkeypatch):
    path = tmp_path / "s.sqlite"
    runner.run(tiny(), path, progress=False, stop_after=1, certify=False)
    built = []
    real = runner.build_models

    def counted(*args, **kwargs):
        built.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(runner, "build_models", counted)
    runner.run(tiny(), path, progress=False, stop_after=1, certify=False)
    runner.run(tiny(), tmp_path / "new.sqlite", progress=False, stop_after=1, certify=False)
    (tmp_path / "empty.sqlite").touch()
    runner.run(tiny(), tmp_path / "empty.sqlite", progress=False, stop_after=1, certify=False)
    assert len(built) == 3


def test_a_stored_model_the_config_leaves_out_is_refused_before_any_model_is_built(
    tmp_path, monkeypatch
):
    """A config that swaps a stored train sigma for another trained the new model (minutes
    on CIFAR-10) before the store refused it for the model it no longer names."""
    path = tmp_path / "s.sqlite"
    runner.run(tiny(), path, progress=False, stop_after=1, certify=False)

    def no_training(*args, **kwargs):
        raise AssertionError("models were built before the stored run was compared")

    monkeypatch.setattr(runner, "build_models", no_training)
    with pytest.raises(ValueError, match="differs in 'models'") as refused:
        runner.run(tiny(train_sigmas=[0.5]), path, progress=False)
    assert "'models.digits-mlp-sigma0.25': stored" in str(refused.value)
    assert "now absent" in str(refused.value)
