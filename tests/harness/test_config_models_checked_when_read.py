"""docs/configs.md: "The whole file is checked when it is read, before a store is created
or anything is trained". Two [[models]] entries that share a name, or a ``training`` the
recipes do not know, are refused by the parser, not after the models before them have been
built (trained); ``training`` on a checkpoint, which is not trained here, is refused too
(it was ignored without a word).

Each is refused when the file is read, naming the key."""

from __future__ import annotations

import warnings

import pytest

from harness.config import ConfigError, parse

RUN = {"dataset": "digits"}


def test_two_models_with_one_name_are_refused_when_read():
    models = [
        {"recipe": "mlp", "sigma0": 0.25, "name": "a"},
        {"recipe": "mlp", "sigma0": 0.5, "name": "a"},
    ]
    with pytest.raises(ConfigError, match=r"models\[1\]\.name"):
        parse({"run": RUN, "models": models})


def test_an_unknown_training_is_refused_when_read():
    models = [{"recipe": "mlp", "sigma0": 0.25, "training": "ibpp"}]
    with pytest.raises(ConfigError, match=r"models\[0\]\.training"):
        parse({"run": RUN, "models": models})


def test_training_on_a_checkpoint_is_refused():
    """docs: training = "ibp" is for recipes only; a checkpoint is not trained here."""
    models = [{"checkpoint": "m.pt", "sigma0": 0.25, "training": "ibp"}]
    with pytest.raises(ConfigError, match=r"models\[0\]\.training"):
        parse({"run": RUN, "models": models})


def test_two_models_that_would_train_one_recipe_are_refused_when_read():
    """No names given: two IBP recipes differing only in sigma0 train the same recipe (its
    name, ``IBPRecipe.name``, is what the store shows), as do two same-sigma Gaussian
    recipes; two checkpoints of one file name share a name too."""
    from baselines.ibp_training import IBPRecipe
    from baselines.models import ModelSpec

    ibp = [{"recipe": "mlp", "training": "ibp", "sigma0": s} for s in (0.25, 0.5)]
    with pytest.raises(ConfigError, match=r"models\[1\]\.name.*models\[0\]"):
        parse({"run": RUN, "models": ibp})
    spec = ModelSpec(recipe="mlp", training="ibp", sigma0=0.5)
    assert spec.display_name("digits") == IBPRecipe("mlp", "digits").name
    twice = [{"recipe": "mlp", "sigma0": 0.25}, {"recipe": "mlp", "sigma0": 0.25}]
    with pytest.raises(ConfigError, match=r"models\[1\]\.name"):
        parse({"run": RUN, "models": twice})
    files = [{"checkpoint": f"{d}/net.pt", "sigma0": 0.25} for d in ("a", "b")]
    with pytest.raises(ConfigError, match=r"models\[1\]\.name"):
        parse({"run": RUN, "models": files})
    named = [{**f, "name": n} for f, n in zip(files, "ab", strict=True)]
    assert [m.name for m in parse({"run": RUN, "models": named}).models] == ["a", "b"]


@pytest.mark.parametrize("key, value", [("arch", "resnet50"), ("format", "state_dict")])
def test_a_checkpoints_keys_on_a_recipe_are_refused(key, value):
    """A recipe names its architecture and is trained here: an ``arch`` or ``format`` beside
    it would be ignored, so it is refused."""
    models = [{"recipe": "mlp", "sigma0": 0.25, key: value}]
    with pytest.raises(ConfigError, match=rf"models\[0\]\.{key}"):
        parse({"run": RUN, "models": models})


def test_options_of_a_certifier_not_run_are_warned_of():
    certify = {"certifiers": ["cohen"], "options": {"functional": {}}}
    models = [{"recipe": "mlp", "sigma0": 0.25}]
    with pytest.warns(UserWarning, match=r"certify\.options\.functional.*not used"):
        parse({"run": RUN, "models": models, "certify": certify})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        parse({"run": RUN, "models": models, "certify": {**certify, "certifiers": ["all"]}})
