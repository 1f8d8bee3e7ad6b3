import numpy as np
import pytest
import torch

from baselines.datasets import load_dataset, load_digits
from baselines.training import Recipe, load_or_train


def test_digits_split_is_fixed_and_disjoint():
    a, b = load_digits(), load_digits()
    np.testing.assert_array_equal(a.test_indices, b.test_indices)
    assert len(a.test_indices) == 360 and len(a.train_indices) == 1437
    assert not set(a.test_indices) & set(a.train_indices)
    x, y = a[int(a.test_indices[0])]
    assert x.shape == (1, 8, 8) and x.dtype == torch.float32
    assert 0.0 <= float(a.images.min()) and float(a.images.max()) <= 1.0
    assert float(a.images.max()) == 1.0 and 0 <= y < 10


def test_unknown_dataset_and_missing_root():
    with pytest.raises(ValueError, match="unknown dataset"):
        load_dataset("mnist")
    with pytest.raises(ValueError, match="data_root"):
        load_dataset("cifar10")


def test_models_are_cached_and_recipes_hash_apart():
    data = load_digits()
    recipe = Recipe("mlp", "digits", 0.25, epochs=3)
    first = load_or_train(recipe, data)
    mtime = first.path.stat().st_mtime_ns
    again = load_or_train(recipe, data)
    assert again.path == first.path and again.path.stat().st_mtime_ns == mtime
    assert again.sha256 == first.sha256
    other = load_or_train(Recipe("mlp", "digits", 0.25, epochs=4), data)
    assert other.path != first.path


def test_training_is_deterministic_and_learns():
    data = load_digits()
    recipe = Recipe("mlp", "digits", 0.12, epochs=8)
    a = load_or_train(recipe, data, retrain=True)
    b = load_or_train(recipe, data, retrain=True)
    assert a.sha256 == b.sha256
    x = data.images[data.test_indices]
    y = data.labels[data.test_indices]
    with torch.no_grad():
        acc = (a.model(x).argmax(1) == y).float().mean().item()
    assert acc > 0.9


def test_a_recipe_without_sigma0_for_the_deterministic_certifiers_trains_without_noise():
    """``smoothing = false`` and no ``sigma0``: the Gaussian recipe trains at sigma 0 (it
    failed formatting its name with sigma None)."""
    from baselines.models import ModelSpec, build_model

    data = load_digits()
    entry = build_model(ModelSpec(recipe="mlp", smoothing=False, name="plain"), data, "models[0]")
    expected = load_or_train(Recipe("mlp", "digits", 0.0), data)
    assert entry.sha256 == expected.sha256 and entry.sigma0 is None
