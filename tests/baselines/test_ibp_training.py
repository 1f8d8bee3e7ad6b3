"""Verified training with interval bounds: Gowal et al.'s schedule, caching like the
Gaussian recipes, and models that the deterministic certifiers certify far more often
than Gaussian-trained ones."""

from __future__ import annotations

import pytest
import torch

import certifiers
from baselines.datasets import load_digits
from baselines.ibp_training import IBPRecipe, train_ibp
from baselines.models import ModelSpec, build_model
from baselines.training import Recipe, load_or_train
from certifiers.deterministic import IBP


def bounds():
    return IBP.for_training().margin_bounds


def train(recipe, data):
    return train_ibp(recipe, data, bounds())


def test_schedule_warms_up_ramps_and_holds():
    r = IBPRecipe("mlp", "digits", eps=0.2, warmup=0.1, ramp=0.5, kappa_end=0.5)
    assert r.schedule(0, 100) == (0.0, 1.0) and r.schedule(10, 100) == (0.0, 1.0)
    eps, kappa = r.schedule(35, 100)
    assert eps == pytest.approx(0.1) and kappa == pytest.approx(0.75)
    assert r.schedule(60, 100) == (pytest.approx(0.2), pytest.approx(0.5))
    assert r.schedule(99, 100) == (pytest.approx(0.2), pytest.approx(0.5))


def test_ibp_recipes_are_cached_and_hash_apart_from_gaussian_ones():
    data = load_digits()
    recipe = IBPRecipe("mlp", "digits", epochs=2)
    first = load_or_train(recipe, data, train_fn=train)
    mtime = first.path.stat().st_mtime_ns
    again = load_or_train(recipe, data, train_fn=train)
    assert again.path == first.path and again.path.stat().st_mtime_ns == mtime
    assert first.name == "digits-mlp-ibp-eps0.11" and again.sha256 == first.sha256
    assert load_or_train(IBPRecipe("mlp", "digits", epochs=3), data, train_fn=train).path != (
        first.path
    )


def test_ibp_training_certifies_what_gaussian_training_does_not():
    data = load_digits()
    ibp = load_or_train(IBPRecipe("mlp", "digits", epochs=15), data, train_fn=train).model
    gauss = load_or_train(Recipe("mlp", "digits", 0.25, epochs=8), data).model
    x = data.images[data.test_indices[:120]]
    y = data.labels[data.test_indices[:120]]
    c = certifiers.get("ibp")
    ibp_rate = c.certify(ibp, x, y, 0.05).certified.float().mean().item()
    gauss_rate = c.certify(gauss, x, y, 0.05).certified.float().mean().item()
    with torch.no_grad():
        assert (ibp(x).argmax(1) == y).float().mean() > 0.85
    assert ibp_rate > 0.6 and gauss_rate < 0.2


def test_build_model_trains_ibp_recipes_with_the_injected_bounds():
    data = load_digits()
    spec = ModelSpec(recipe="mlp", training="ibp", smoothing=False)
    with pytest.raises(ValueError, match="verified_bounds"):
        build_model(spec, data)
    with pytest.raises(ValueError, match="unknown training 'pgd'"):
        build_model(ModelSpec(recipe="mlp", training="pgd", sigma0=0.25), data)
    # the name the store shows is the trained recipe's, known before it is trained
    assert spec.display_name("digits") == IBPRecipe("mlp", "digits").name


def test_build_models_refuses_a_repeated_name_before_building_any(monkeypatch):
    """Two specs stored under one name are refused before the first is built (trained)."""
    import baselines.models as models

    def never(*args, **kwargs):
        raise AssertionError("a model was built before the names were checked")

    monkeypatch.setattr(models, "build_model", never)
    specs = [ModelSpec(recipe="mlp", training="ibp", sigma0=s) for s in (0.25, 0.5)]
    with pytest.raises(ValueError, match=r"models\[1\] and models\[0\] share the name"):
        models.build_models(specs, load_digits())
