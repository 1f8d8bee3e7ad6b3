"""Reading models: the layers, the two protocols, traced forwards, and clear errors that
name an unsupported layer and its position."""

from __future__ import annotations

import pytest
import torch
from torch import nn

import certifiers
from certifiers.base import UnsupportedError
from certifiers.deterministic import UnsupportedLayerError, read_network
from tests.certifiers.deterministic.networks import Block, ChannelAffine, Shifted


def mlp(*middle: nn.Module) -> nn.Sequential:
    return nn.Sequential(nn.Flatten(), nn.Linear(4, 5), *middle, nn.Linear(5, 3)).eval()


X = torch.rand(3, 1, 2, 2)
Y = torch.tensor([0, 1, 2])


@pytest.mark.parametrize("name", ["ibp", "crown"])
def test_an_unsupported_layer_is_named_with_its_position(name):
    model = mlp(nn.Sigmoid())
    with pytest.raises(UnsupportedLayerError) as err:
        certifiers.get(name).certify(model, X, Y, 0.1)
    message = str(err.value)
    assert "layer 3 of the network" in message and "'2' (Sigmoid)" in message
    assert "support" in message


def test_nested_paths_and_positions():
    model = nn.Sequential(nn.Flatten(), nn.Sequential(nn.Linear(4, 4), nn.Tanh()))
    with pytest.raises(UnsupportedLayerError, match=r"layer 3 of the network, '1.1' \(Tanh\)"):
        read_network(model)


def test_an_inline_residual_connection_asks_for_the_protocol():
    class Inline(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(4, 4)

        def forward(self, x):
            x = x.flatten(1)
            return self.fc(x) + x

    with pytest.raises(UnsupportedLayerError, match="residual_parts"):
        read_network(Inline())


@pytest.mark.filterwarnings("ignore:`torch.jit.script` is deprecated")
def test_torchscript_batch_norm_in_training_and_dropout_in_training_are_refused():
    with pytest.raises(UnsupportedLayerError, match="TorchScript"):
        read_network(torch.jit.script(mlp()))
    with pytest.raises(UnsupportedLayerError, match=r"'2' \(BatchNorm1d\).*eval"):
        read_network(mlp(nn.BatchNorm1d(5)).train())
    with pytest.raises(UnsupportedLayerError, match=r"Dropout.*eval"):
        read_network(mlp(nn.Dropout()).train())


def test_the_protocols_are_read_as_their_parts():
    block = Block(
        nn.Identity(), nn.Sequential(nn.Linear(4, 4), nn.ReLU()), nn.Identity(), nn.ReLU()
    )
    model = nn.Sequential(
        ChannelAffine(torch.tensor([2.0]), torch.tensor([-1.0])), nn.Flatten(), block,
        nn.Linear(4, 3),
    )  # fmt: skip
    kinds = [type(op).__name__ for op in read_network(model).walk()]
    assert kinds[:3] == ["Chain", "ElementwiseAffine", "Reshape"]
    assert "Residual" in kinds
    x = torch.rand(5, 1, 2, 2)
    with torch.no_grad():
        assert torch.allclose(read_network(model).forward(x), model(x))


def test_a_traced_forward_with_constants_reproduces_the_model():
    class Normalized(nn.Module):
        def __init__(self):
            super().__init__()
            self.register_buffer("mean", torch.tensor([0.4]).reshape(1, 1, 1, 1))
            self.register_buffer("std", torch.tensor([0.2]).reshape(1, 1, 1, 1))
            self.net = mlp()

        def forward(self, x):
            h = (x - self.mean) / self.std
            h = -h + 1.0
            return self.net(h.view(h.size(0), -1).reshape(h.shape[0], 1, 2, 2))

    for model in (Normalized().eval(), Shifted(mlp())):
        network = read_network(model)
        x = torch.rand(4, 1, 2, 2)
        with torch.no_grad():
            assert torch.allclose(network.forward(x.double()).float(), model(x), atol=1e-6)
        assert certifiers.get("crown").certify(model, x, model(x).argmax(1), 0.0).certified.all()


def test_a_reading_that_misses_the_forward_is_refused():
    class Lying(Block):
        def forward(self, x):
            return 2 * super().forward(x)

    model = nn.Sequential(nn.Flatten(), Lying(nn.Identity(), nn.Linear(4, 4), nn.Identity(),
                                              nn.Identity()), nn.Linear(4, 3))  # fmt: skip
    with pytest.raises(ValueError, match="differs from the model's outputs"):
        certifiers.get("ibp").certify(model, X, Y, 0.1)


def test_bad_residual_parts_and_flatten_over_the_batch():
    class Bad(nn.Module):
        def forward(self, x):
            return x

        def residual_parts(self):
            return nn.Identity(), nn.Identity()

    with pytest.raises(UnsupportedLayerError, match="4 modules"):
        read_network(nn.Sequential(Bad()))
    with pytest.raises(UnsupportedLayerError, match="batch dimension"):
        read_network(nn.Sequential(nn.Flatten(0), nn.Linear(4, 3)))


def test_readings_are_cached_until_the_model_changes():
    c = certifiers.get("ibp")
    model = mlp()
    first = c.read(model)
    assert c.read(model) is first and certifiers.get("crown").read(model) is first
    model[1] = nn.Linear(4, 5)  # a replaced layer
    second = c.read(model)
    assert second is not first and second.ops[1].module is model[1]
    model.train()  # a changed mode
    assert c.read(model) is not second
    model.eval()
    with torch.no_grad():
        model[1].weight.mul_(2.0)  # weights are read at every bound, not at reading
    x = torch.rand(2, 1, 2, 2)
    with torch.no_grad():
        assert torch.allclose(c.read(model).forward(x.double()).float(), model(x), atol=1e-6)


def test_arithmetic_between_two_layer_outputs_is_refused():
    class Square(nn.Module):
        def __init__(self):
            super().__init__()
            self.net = mlp()

        def forward(self, x):
            return self.net(x * x)

    with pytest.raises(UnsupportedLayerError, match="one constant"):
        read_network(Square())


def _one_input_model(layers) -> nn.Sequential:
    """``Identity, *layers(first, second)`` on one input with two logits, ``first`` and
    ``second`` linear layers with weights fixed so that the
    first hidden unit's ReLU matters only below x = 0.3 and the second's below 0.5."""
    first, second = nn.Linear(1, 2), nn.Linear(2, 2)
    with torch.no_grad():
        first.weight.copy_(torch.tensor([[1.0], [1.0]]))
        first.bias.copy_(torch.tensor([-0.3, -0.5]))
        second.weight.copy_(torch.tensor([[2.0, -1.0], [0.0, 0.0]]))
        second.bias.copy_(torch.tensor([-0.25, 0.0]))
    return nn.Sequential(nn.Identity(), *layers(first, second)).double().eval()


def _true_radius(model: nn.Module, x: float) -> float:
    """The distance from ``x`` to the nearest input of [0, 1] whose class differs, on a
    grid of step 1e-5 (an independent check of a certified l-inf radius in one
    dimension)."""
    grid = torch.linspace(0.0, 1.0, 100_001, dtype=torch.float64)[:, None]
    with torch.no_grad():
        label = model(torch.tensor([[x]], dtype=torch.float64)).argmax(1)
        flipped = grid[model(grid).argmax(1) != label]
    return float((flipped - x).abs().min()) if len(flipped) else 1.0


@pytest.mark.parametrize("name", ["ibp", "crown"])
def test_a_module_used_twice_in_a_sequential_is_read_at_each_use(name):
    """``named_children()`` yields a shared module once; ``Sequential.forward`` runs it at
    each use. Read once, the model below loses its second ReLU, the reading still
    matches at x = 0.6 (both ReLUs are inactive there) and the radius was 0.25 against a
    true 0.175."""
    act = nn.ReLU()
    model = _one_input_model(lambda first, second: (act, first, act, second))
    assert [type(op).__name__ for op in read_network(model).ops] == [
        "Identity", "ReLU", "Linear", "ReLU", "Linear",
    ]  # fmt: skip
    x = torch.tensor([[0.6]], dtype=torch.float64)
    radius = float(certifiers.get(name).certified_radius(model, x, [0])[0])
    assert 0.0 < radius <= _true_radius(model, 0.6)


def test_a_subclass_that_overrides_forward_is_not_read_as_its_base():
    """A ReLU subclass that computes something else is traced, not read as a ReLU: here
    its forward calls an unsupported function, so the model is refused. A subclass that
    keeps torch's forward is still a ReLU."""

    class Leaky(nn.ReLU):
        def forward(self, x):
            return torch.nn.functional.leaky_relu(x, 0.5)

    class Plain(nn.ReLU):
        """Keeps torch's forward: read as a ReLU."""

    model = _one_input_model(lambda first, second: (first, Leaky(), second))
    with pytest.raises(UnsupportedLayerError, match="'2.leaky_relu'"):
        read_network(model)
    model = _one_input_model(lambda first, second: (first, Plain(), second))
    assert [type(op).__name__ for op in read_network(model).ops][2] == "ReLU"


def test_the_reading_is_checked_away_from_the_inputs(monkeypatch):
    """A reading that drops a ReLU reproduces the model at an input where that ReLU is
    inactive; the check at random points of the pixel cube still refuses it."""
    model = _one_input_model(lambda first, second: (first, nn.ReLU(), second))
    dropped = read_network(model)
    dropped.ops = [op for op in dropped.ops if type(op).__name__ != "ReLU"]
    x = torch.tensor([[0.6]], dtype=torch.float64)
    with torch.no_grad():
        assert torch.allclose(dropped.forward(x), model(x))  # invisible at x
    monkeypatch.setattr("certifiers.deterministic.base.read_network", lambda model: dropped)
    with pytest.raises(UnsupportedError, match="differs from the model's outputs"):
        certifiers.get("ibp").certified_radius(model, x, [0])


def test_the_network_as_read_is_the_model_in_float64_arithmetic():
    """Division by a float32 constant and the normalization layer are read with float64
    reciprocals: the network as read equals a float64 copy of the model (a reciprocal
    rounded to float32 moved a logit summing 3072 pixels by about 1e-5)."""
    import copy

    from baselines.nets.normalize import CIFAR10_MEAN, CIFAR10_STD, NormalizeLayer

    class Divided(nn.Module):
        def __init__(self):
            super().__init__()
            self.register_buffer("std", torch.tensor(CIFAR10_STD).reshape(1, 3, 1, 1))
            self.net = nn.Sequential(nn.Flatten(), nn.Linear(3072, 3))

        def forward(self, x):
            return self.net(x / self.std)

    torch.manual_seed(0)
    normalized = nn.Sequential(
        NormalizeLayer(CIFAR10_MEAN, CIFAR10_STD), nn.Flatten(), nn.Linear(3072, 3)
    )
    x = torch.rand(4, 3, 32, 32, dtype=torch.float64)
    for model in (normalized.eval(), Divided().eval()):
        with torch.no_grad():
            read = read_network(model).forward(x)
            exact = copy.deepcopy(model).double()(x)
        assert torch.allclose(read, exact, rtol=0, atol=1e-12)


def test_forward_hooks_are_refused():
    model = mlp()
    handle = model[1].register_forward_hook(lambda module, args, out: out - 1e-5)
    with pytest.raises(UnsupportedError, match="'1' \\(Linear\\) has forward hooks"):
        certifiers.get("ibp").certify(model, X, Y, 0.0)
    handle.remove()
    certifiers.get("ibp").certify(model, X, Y, 0.0)
    handle = nn.modules.module.register_module_forward_pre_hook(lambda module, args: None)
    try:
        with pytest.raises(UnsupportedError, match="global forward hooks"):
            certifiers.get("crown").certify(model, X, Y, 0.0)
    finally:
        handle.remove()
