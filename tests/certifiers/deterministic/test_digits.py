"""The deterministic certifiers on the embedded digits models: a Gaussian-trained MLP
(read through its traced forward, ``net(x - 0.5)``) and an IBP-trained one pass the
conformance kit, and the PGD attack that never breaks a certified input does break
uncertified ones."""

from __future__ import annotations

import pytest
import torch

import certifiers
from baselines.datasets import load_digits
from baselines.ibp_training import IBPRecipe, train_ibp
from baselines.training import Recipe, load_or_train
from certifiers.deterministic import IBP
from certifiers.deterministic.base import input_box
from certifiers.deterministic.testing import check_deterministic_certifier, pgd_attack


def models():
    data = load_digits()
    bounds = IBP.for_training().margin_bounds
    gauss = load_or_train(Recipe("mlp", "digits", 0.25, epochs=8), data).model
    ibp = load_or_train(
        IBPRecipe("mlp", "digits", epochs=15), data, train_fn=lambda r, d: train_ibp(r, d, bounds)
    ).model
    x = data.images[data.test_indices[:60]]
    y = data.labels[data.test_indices[:60]]
    return {"gaussian": gauss, "ibp": ibp}, x, y


@pytest.mark.parametrize("name", ["ibp", "crown"])
def test_the_digits_models_pass_the_kit(name):
    nets, x, y = models()
    c = certifiers.get(name)
    for net in nets.values():
        radius = certifiers.get("crown").certified_radius(net, x, y)
        eps = float(radius[radius > 0].median())
        check_deterministic_certifier(c, net, x, y, eps)


def test_pgd_breaks_some_uncertified_inputs_of_the_gaussian_model():
    nets, x, y = models()
    net = nets["gaussian"]
    eps = 0.1
    certified = certifiers.get("crown").certify(net, x, y, eps).certified
    box = input_box(x.double(), torch.full((len(x),), eps, dtype=torch.float64))
    broken = pgd_attack(net.double(), box, y, generator=torch.Generator().manual_seed(0))
    net.float()
    assert broken.sum() >= 10 and not (broken & certified).any()
