"""The deterministic certifiers as plugins: registry, options, input checks, gradients
for verified training, and the bisection radius."""

from __future__ import annotations

import pytest
import torch
from torch import nn

import certifiers
from certifiers import UnsupportedError
from certifiers.deterministic import CROWN, IBP
from certifiers.deterministic.ops import Box
from harness.noise import Gaussian


def tiny() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Flatten(), nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3)).eval()


X = torch.rand(4, 1, 2, 2)


def labels(model: nn.Module) -> torch.Tensor:
    with torch.no_grad():
        return model(X).argmax(1)


@pytest.mark.parametrize("name", ["ibp", "crown"])
def test_registered_deterministic_and_skipped_by_count_certification(name):
    c = certifiers.get(name)
    assert c.name == name and c.deterministic is True
    assert not any(c.supports(Gaussian(0.5, 4), norm) for norm in certifiers.NORMS)
    with pytest.raises(UnsupportedError, match="deterministic"):
        c.radius(Gaussian(0.5, 4), 0.9, norm="linf")
    assert certifiers.get(name, batch_size=7).options()["batch_size"] == 7
    assert not getattr(certifiers.get("cohen"), "deterministic", False)


def test_is_deterministic_by_name_class_or_instance():
    """Exactly the certifiers without (noise, norm) table entries are deterministic, and
    the answer is the same for a name, its class and an instance."""
    for name in certifiers.available():
        cls = certifiers.CERTIFIERS.get(name)
        expected = not getattr(cls, "certificates", {})
        answers = {
            certifiers.is_deterministic(name),
            certifiers.is_deterministic(cls),
            certifiers.is_deterministic(certifiers.get(name)),
        }
        assert answers == {expected}, name
    assert {n for n in certifiers.available() if certifiers.is_deterministic(n)} >= {
        "ibp",
        "crown",
    }
    with pytest.raises((KeyError, ValueError), match="ibpp"):
        certifiers.is_deterministic("ibpp")


def test_options_are_checked():
    assert certifiers.get("crown", intermediate="crown").options()["intermediate"] == "crown"
    with pytest.raises(ValueError, match="intermediate"):
        certifiers.get("crown", intermediate="alpha")
    with pytest.raises(ValueError, match="dtype"):
        certifiers.get("ibp", dtype="float16")
    with pytest.raises(ValueError, match="bisection_steps"):
        certifiers.get("ibp", bisection_steps=0)


@pytest.mark.parametrize("name", ["ibp", "crown"])
def test_bad_inputs_are_refused(name):
    c, model = certifiers.get(name), tiny()
    y = labels(model)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        c.certify(model, X + 1.5, y, 0.1)
    with pytest.raises(ValueError, match="eps"):
        c.certify(model, X, y, -0.1)
    with pytest.raises(ValueError, match="eps"):
        c.certify(model, X, y, float("nan"))
    with pytest.raises(ValueError, match="label"):
        c.certify(model, X, y[:2], 0.1)
    with pytest.raises(ValueError, match="classes"):
        c.certify(model, X, torch.tensor([0, 1, 2, 3]), 0.1)
    with pytest.raises(UnsupportedError, match="l2"):
        c.certify(model, X, y, 0.1, norm="l2")
    with pytest.raises(TypeError, match="nn.Module"):
        c.certify(lambda t: t, X, y, 0.1)


@pytest.mark.parametrize("name", ["ibp", "crown"])
def test_margin_bounds_carry_gradients_for_verified_training(name):
    model = tiny().train()
    c = {"ibp": IBP, "crown": CROWN}[name].for_training()
    margins = c.margin_bounds(model, X, labels(model), 0.05)
    assert margins.dtype == torch.float32 and margins.requires_grad
    torch.nn.functional.cross_entropy(-margins, labels(model)).backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in model.parameters())


def test_per_input_eps_and_batches_give_the_same_answers():
    model = tiny()
    y = labels(model)
    eps = torch.tensor([0.0, 0.01, 0.05, 0.2], dtype=torch.float64)
    whole = certifiers.get("crown").certify(model, X, y, eps)
    split = certifiers.get("crown", batch_size=1).certify(model, X, y, eps)
    assert torch.allclose(whole.margins, split.margins, rtol=0, atol=1e-12)
    assert torch.equal(whole.certified, split.certified)
    for i in range(4):
        one = certifiers.get("crown").certify(model, X[i : i + 1], y[i : i + 1], float(eps[i]))
        assert torch.allclose(one.margins, whole.margins[i : i + 1], rtol=0, atol=1e-12)


def test_ibp_bisection_finds_the_boundary_to_its_resolution():
    model = tiny()
    y = labels(model)
    c = certifiers.get("ibp", bisection_steps=20)
    radius = c.certified_radius(model, X, y)
    assert (radius > 0).all()
    assert c.certify(model, X, y, radius).certified.all()
    # IBP bounds are monotone in the box, so just above the radius it fails
    assert not c.certify(model, X, y, radius + 2.0**-19).certified.any()


def test_misclassified_inputs_have_radius_zero_and_a_constant_network_radius_one():
    model = tiny()
    wrong = (labels(model) + 1) % 3
    assert (certifiers.get("ibp").certified_radius(model, X, wrong) == 0).all()
    constant = nn.Sequential(nn.Flatten(), nn.Linear(4, 3)).eval()
    with torch.no_grad():
        constant[1].weight.zero_()
        constant[1].bias.copy_(torch.tensor([1.0, 0.0, 0.0]))
    radius = certifiers.get("crown").certified_radius(constant, X, torch.zeros(4, dtype=int))
    assert (radius == 1.0).all()


@pytest.mark.parametrize("intermediate", ["ibp", "crown"])
def test_crown_splits_batches_to_its_coefficient_budget_and_refuses_beyond(intermediate):
    model = tiny()
    x = torch.rand(9, 1, 2, 2)
    y = labels(model).repeat(3)[:9]
    wide = certifiers.get("crown", intermediate=intermediate)
    box = Box(x.double(), x.double())
    per_input = wide.coefficients_per_input(wide.read(model), box, specs=3)
    assert per_input == (3 if intermediate == "ibp" else 2 * 8) * 8  # rows x widest (8)
    narrow = certifiers.get("crown", intermediate=intermediate, max_coefficients=2 * per_input)
    a = wide.certify(model, x, y, 0.05)
    b = narrow.certify(model, x, y, 0.05)
    assert torch.allclose(a.margins, b.margins, rtol=0, atol=1e-12)
    tight = certifiers.get("crown", intermediate=intermediate, max_coefficients=per_input - 1)
    with pytest.raises(UnsupportedError, match="max_coefficients"):
        tight.certify(model, x, y, 0.05)


@pytest.mark.parametrize("name", ["ibp", "crown"])
def test_a_label_the_float32_model_does_not_predict_is_never_certified(name):
    """The bounds are those of the network in exact (float64) arithmetic: logits 1 and
    1 + 2^-25 give class 1 a margin of 2^-25 there, but the float32 model rounds both to 1
    and predicts class 0. Class 1 is not certified, and its radius is 0."""
    model = nn.Linear(1, 2).eval()
    with torch.no_grad():
        model.weight.fill_(1.0)
        model.bias.copy_(torch.tensor([0.0, 2.0**-25]))
    x, y = torch.ones(1, 1), torch.tensor([1])
    c = certifiers.get(name)
    result = c.certify(model, x, y, 0.0)
    assert float(result.worst_margin[0]) == 2.0**-25  # the exact margin is positive ...
    assert int(result.prediction[0]) == 0  # ... but the model predicts the other class
    assert not result.certified.any()
    assert c.certified_radius(model, x, y).tolist() == [0.0]


def test_float32_bounds_serve_training_and_never_certify():
    with pytest.raises(ValueError, match="cannot certify"):
        certifiers.get("ibp", dtype="float32")
    trainer = CROWN.for_training()
    model = tiny()
    assert trainer.margin_bounds(model, X, labels(model), 0.0).dtype == torch.float32
    with pytest.raises(UnsupportedError, match="verified training"):
        trainer.certify(model, X, labels(model), 0.0)
    with pytest.raises(UnsupportedError, match="verified training"):
        trainer.certified_radius(model, X, labels(model))
