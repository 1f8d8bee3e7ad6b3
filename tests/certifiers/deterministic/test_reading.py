"""Reading models: the layers, the two protocols, traced forwards, and clear errors that
name an unsupported layer and its position."""

from __future__ import annotations

import copy
import sys

import pytest
import torch
import torch.nn.functional as F
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


class _ListShift(nn.Module):
    """A traced forward that takes a constant from a list attribute."""

    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(2, 2)
        self.shift = [0.0, 0.0]

    def forward(self, x):
        return self.fc(x - torch.tensor(self.shift, dtype=torch.float64))


class _TensorShift(nn.Module):
    """A traced forward that takes a constant from a tensor that is not a buffer."""

    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(2, 2)
        self.shift = torch.zeros(2, dtype=torch.float64)

    def forward(self, x):
        return self.fc(x - self.shift)


_GLOBAL_SHIFT = [0.0]


class _GlobalShift(nn.Module):
    """A traced forward that takes a constant from a module-level global."""

    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(2, 2)

    def forward(self, x):
        return self.fc(x) + torch.tensor([0.0, _GLOBAL_SHIFT[0]], dtype=torch.float64)


def _shift(model: nn.Module, by: float) -> None:
    if isinstance(model, _ListShift):
        model.shift[0] = by
    elif isinstance(model, _TensorShift):
        model.shift = torch.tensor([by, 0.0], dtype=torch.float64)
    else:
        _GLOBAL_SHIFT[0] = by


@pytest.mark.parametrize("name", ["ibp", "crown"])
@pytest.mark.parametrize("kind", [_ListShift, _TensorShift, _GlobalShift])
def test_what_a_traced_forward_reads_is_read_again_at_every_call(name, kind, monkeypatch):
    """Changing a constant the forward takes from a list, a plain tensor or a global,
    after a first certificate, must not leave the old network certified. With ``z = x -
    (s, 0)`` (or ``z_1`` raised by ``s``) the margin ``x_0 - x_1 - s`` falls fastest
    toward the corner ``(x_0 - e, x_1 + e)``: the exact radius is the margin over 2, and
    the model's own forward misclassifies that corner just past it. The shift, 5e-5, lies
    below what the reading check can see (``READING_TOLERANCE``)."""
    monkeypatch.setattr(sys.modules[__name__], "_GLOBAL_SHIFT", [0.0])
    certifier = certifiers.get(name, bisection_steps=30)
    model = kind().double().eval()
    with torch.no_grad():
        model.fc.weight.copy_(torch.eye(2))
        model.fc.bias.zero_()
    x = torch.tensor([[0.5 + 6e-5, 0.5]], dtype=torch.float64)
    before = float(certifier.certified_radius(model, x, [0])[0])
    assert 2.9e-5 <= before <= 3e-5  # the margin 6e-5 over 2, to the bisection's grid
    _shift(model, 5e-5)
    after = float(certifier.certified_radius(model, x, [0])[0])
    assert 0.45e-5 <= after <= 0.5e-5
    corner = x + torch.tensor([[-1.0, 1.0]], dtype=torch.float64) * 0.51e-5
    with torch.no_grad():
        assert int(model(corner).argmax(1)) == 1  # just past the exact radius


def test_a_reading_follows_replaced_layers_modes_and_weights():
    c = certifiers.get("ibp")
    model = mlp(nn.Dropout(0.5))
    first = c.read(model)
    model[1] = nn.Linear(4, 5)  # a replaced layer
    second = c.read(model)
    assert second.ops[1].module is model[1] and first.ops[1].module is not model[1]
    model.train()  # a changed mode: refused in training mode
    with pytest.raises(UnsupportedError):
        c.certify(model, X, Y, 0.0)
    model.eval()
    with torch.no_grad():
        model[1].weight.mul_(2.0)  # weights are read at every bound
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


class _InlineNormalized(nn.Module):
    """MNIST's normalization written inline: Python-float constants of a traced forward."""

    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Flatten(), nn.Linear(16, 3))

    def forward(self, x):
        return self.net((x - 0.1307) / 0.3081 * 0.7)


def test_python_float_constants_of_a_traced_forward_are_read_in_float64():
    """``x - 0.1307``, ``/ 0.3081`` and ``* 0.7`` are not float32 numbers: read through
    torch's default float32 they would move the network by about 1e-8 of its logits."""
    torch.manual_seed(0)
    model = _InlineNormalized().double().eval()
    x = torch.rand(4, 1, 4, 4, dtype=torch.float64)
    with torch.no_grad():
        assert torch.allclose(read_network(model).forward(x), model(x), rtol=0, atol=1e-12)


@pytest.mark.parametrize("name", ["ibp", "crown"])
def test_a_box_with_a_misclassified_point_is_not_certified_through_a_float_constant(name):
    """``z_0 - z_1 = x / 0.7 - t`` with ``t = 0.4 / 0.7 + 5e-9``: negative at x = 0.4, a
    point of the box of radius 0.1 around 0.5 (0.7 rounded to float32 made the bound
    positive there)."""
    t = 0.4 / 0.7 + 5e-9

    class Model(nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = nn.Linear(1, 2).double()
            with torch.no_grad():
                self.lin.weight.copy_(torch.tensor([[1.0], [0.0]], dtype=torch.float64))
                self.lin.bias.copy_(torch.tensor([-t, 0.0], dtype=torch.float64))

        def forward(self, x):
            return self.lin(x / 0.7)

    model = Model().eval()
    with torch.no_grad():
        assert model(torch.tensor([[0.4]], dtype=torch.float64)).argmax(1).item() == 1
    x = torch.tensor([[0.5]], dtype=torch.float64)
    assert not certifiers.get(name).certify(model, x, [0], 0.1).certified.any()


class _ScaledInput(nn.Module):
    def __init__(self):
        super().__init__()
        self.k = 2.0
        self.net = nn.Sequential(nn.Linear(2, 3))

    def forward(self, x):
        return self.net(x * self.k)


@pytest.mark.parametrize("name", ["ibp", "crown"])
def test_a_model_whose_logits_are_not_finite_is_refused(name):
    """NaN compares false with any tolerance, and an argmax of NaN rows is 0: a model
    that outputs NaN (here after its reading was cached) or infinity must be refused, not
    certified with some reading's bounds."""
    torch.manual_seed(0)
    model = _ScaledInput().double().eval()
    with torch.no_grad():
        model.net[0].weight.zero_()
        model.net[0].bias.copy_(torch.tensor([1.0, 0.0, 0.0], dtype=torch.float64))
    x = torch.rand(2, 2, dtype=torch.float64)
    certifier = certifiers.get(name)
    assert certifier.certify(model, x, [0, 0], 0.1).certified.all()
    for k in (float("nan"), float("inf")):
        model.k = k
        with pytest.raises(UnsupportedError, match="not finite"):
            certifier.certify(model, x, [0, 0], 0.1)
        with pytest.raises(UnsupportedError, match="not finite"):
            certifier.certified_radius(model, x, [0, 0])
    model.k = 2.0
    with torch.no_grad():
        model.net[0].bias[0] = float("inf")
    with pytest.raises(UnsupportedError, match="not finite"):
        certifier.certify(model, x, [0, 0], 0.1)


def test_a_changed_constant_of_a_traced_forward_is_read_again():
    """A reading is cached while the model's structure stays; a Python number the forward
    uses (``x * self.k``) is part of it, so a change too small for the reading check
    (below 1e-4 of the logits) still gives the bounds of the network as it now is."""
    torch.manual_seed(0)
    model = _ScaledInput().double().eval()
    x = torch.rand(3, 2, dtype=torch.float64)
    certifier = certifiers.get("ibp")
    certifier.margin_bounds(model, x, [0, 0, 0], 0.05)
    model.k = 2.0 + 2e-5
    now = certifier.margin_bounds(model, x, [0, 0, 0], 0.05)
    fresh = certifiers.get("ibp").margin_bounds(copy.deepcopy(model), x, [0, 0, 0], 0.05)
    assert torch.equal(now, fresh)


def _negative_divisor_pools() -> dict[str, nn.Module]:
    class Traced(nn.Module):
        def __init__(self, positional: bool):
            super().__init__()
            self.positional = positional
            self.head = nn.Sequential(nn.Flatten(), nn.Linear(4, 3))

        def forward(self, x):
            if self.positional:
                return self.head(F.avg_pool2d(x, 2, 2, 0, False, True, -1))
            return self.head(F.avg_pool2d(x, 2, divisor_override=-1))

    module = nn.Sequential(nn.AvgPool2d(2, divisor_override=-1), nn.Flatten(), nn.Linear(4, 3))
    return {"module": module, "traced": Traced(False), "traced-positional": Traced(True)}


@pytest.mark.parametrize("which", ["module", "traced", "traced-positional"])
def test_average_pooling_with_a_negative_divisor_is_refused(which):
    """``divisor_override = -1`` makes the pooling's weights negative: it is then not the
    monotone map IBP bounds by ``[f(l), f(u)]`` (the box would come out crossed and the
    bounds exceed the margins), so the reader refuses it."""
    model = _negative_divisor_pools()[which].double().eval()
    x = torch.rand(2, 1, 4, 4, dtype=torch.float64)
    with torch.no_grad():
        model(x)  # torch itself accepts it
    with pytest.raises(UnsupportedLayerError, match="divisor_override"):
        read_network(model)


def test_average_pooling_with_a_positive_divisor_is_read():
    model = nn.Sequential(nn.AvgPool2d(2, divisor_override=3), nn.Flatten(), nn.Linear(4, 3))
    model = model.double().eval()
    x = torch.rand(2, 1, 4, 4, dtype=torch.float64)
    with torch.no_grad():
        assert torch.allclose(read_network(model).forward(x), model(x), rtol=0, atol=1e-12)


def test_a_constant_minus_the_input_is_read_exactly():
    """``1.0 - x`` (a reversed subtraction) is ``-x + 1``, not ``x + 1``."""

    class Flipped(nn.Module):
        def __init__(self):
            super().__init__()
            self.net = nn.Sequential(nn.Flatten(), nn.Linear(4, 3))

        def forward(self, x):
            return self.net(1.0 - x)

    torch.manual_seed(0)
    model = Flipped().double().eval()
    x = torch.rand(5, 1, 2, 2, dtype=torch.float64)
    with torch.no_grad():
        assert torch.allclose(read_network(model).forward(x), model(x), rtol=0, atol=1e-12)


class _MissedScale(nn.Module):
    """The residual protocol's parts are read; the forward also scales their sum by
    ``1 + d``, which the reading misses."""

    def __init__(self, d: float):
        super().__init__()
        self.d = d
        self.lin = nn.Linear(4, 4)

    def forward(self, x):
        return (1.0 + self.d) * (self.lin(x) + x)

    def residual_parts(self):
        return nn.Identity(), self.lin, nn.Identity(), nn.Identity()


@pytest.mark.parametrize("name", ["ibp", "crown"])
def test_a_reading_off_by_a_thousandth_is_refused(name):
    """The reading check's tolerance is 1e-4 of the logits' scale: a forward the reading
    misses by a relative 1e-3 is refused, one it misses by 1e-6 (float32's order) is not."""
    x = torch.rand(3, 4, dtype=torch.float64, generator=torch.Generator().manual_seed(2))
    for d, refused in ((1e-3, True), (1e-6, False)):
        torch.manual_seed(0)
        model = nn.Sequential(_MissedScale(d), nn.Linear(4, 3)).double().eval()
        with torch.no_grad():
            model[1].weight.mul_(50.0)
            y = model(x).argmax(1)
        certifier = certifiers.get(name)
        if refused:
            with pytest.raises(UnsupportedError, match="differs from the model's outputs"):
                certifier.certify(model, x, y, 0.01)
        else:
            certifier.certify(model, x, y, 0.01)
