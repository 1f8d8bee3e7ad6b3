"""The baselines' networks: Cohen et al.'s key layouts and sizes, the residual-block and
normalization protocols that bound propagation walks, forward = composition of parts."""

import pytest
import torch
from torch import nn

from baselines.architectures import ARCHITECTURES, build
from baselines.nets import (
    CIFAR10_MEAN,
    CIFAR10_STD,
    CifarResNet,
    NormalizeLayer,
    WideResNet,
)
from tests.baselines.fake_data import randomize_batch_norm


def cohen_cifar_keys(depth: int) -> set[str]:
    """The state_dict keys of Cohen et al.'s Sequential(NormalizeLayer, ResNet-depth), from
    the description of their network (not from the code under test)."""
    n = (depth - 2) // 6
    bn = ("weight", "bias", "running_mean", "running_var", "num_batches_tracked")
    keys = {"1.conv1.weight", "1.fc.weight", "1.fc.bias", *(f"1.bn1.{b}" for b in bn)}
    for stage in (1, 2, 3):
        for i in range(n):
            p = f"1.layer{stage}.{i}"
            keys |= {f"{p}.conv1.weight", f"{p}.conv2.weight"}
            keys |= {f"{p}.bn{j}.{b}" for j in (1, 2) for b in bn}
            if stage > 1 and i == 0:
                keys |= {f"{p}.downsample.0.weight", *(f"{p}.downsample.1.{b}" for b in bn)}
    return keys


def cifar_resnet_parameters(depth: int, classes: int = 10) -> int:
    """Parameter count by hand: 3x3 convolutions without bias, batch norm (2 per channel),
    1x1 projections with batch norm where the width changes, a linear layer."""
    n = (depth - 2) // 6
    total = 3 * 16 * 9 + 2 * 16 + 64 * classes + classes
    cin = 16
    for width in (16, 32, 64):
        for i in range(n):
            a = cin if i == 0 else width
            total += a * width * 9 + width * width * 9 + 4 * width
            if i == 0 and a != width:
                total += a * width + 2 * width
        cin = width
    return total


@pytest.mark.parametrize("arch,depth", [("cifar_resnet20", 20), ("cifar_resnet110", 110)])
def test_cifar_resnet_has_cohens_key_layout_and_size(arch, depth):
    model = build(arch)
    assert set(model.state_dict()) == cohen_cifar_keys(depth)
    count = sum(p.numel() for p in model.parameters())
    assert count == cifar_resnet_parameters(depth)
    if depth == 110:
        assert 1.70e6 < count < 1.75e6  # "about 1.7 million"


def test_resnet50_keys_are_torchvisions_after_the_normalization_layer():
    from torchvision.models import resnet50

    reference = resnet50(weights=None).state_dict()
    model = build("resnet50")
    assert list(model.state_dict()) == [f"1.{k}" for k in reference]
    assert isinstance(model[0], NormalizeLayer)


def test_trades_wideresnet_layout():
    model = build("trades_wrn34_10")
    keys = set(model.state_dict())
    shortcuts = sorted(k for k in keys if "convShortcut" in k)
    assert shortcuts == [
        "block1.layer.0.convShortcut.weight",
        "block2.layer.0.convShortcut.weight",
        "block3.layer.0.convShortcut.weight",
        "sub_block1.layer.0.convShortcut.weight",
    ]
    assert {f"block{g}.layer.4.conv2.weight" for g in (1, 2, 3)} <= keys  # 5 blocks a group
    assert not any(k.startswith("block1.layer.5") for k in keys)
    used = sum(p.numel() for n, p in model.named_parameters() if not n.startswith("sub_block1"))
    assert abs(used - 46.16e6) / 46.16e6 < 0.005  # WRN-34-10: 46.2 million parameters


def test_normalize_layer_is_its_channel_affine_and_holds_no_state():
    layer = NormalizeLayer(CIFAR10_MEAN, CIFAR10_STD)
    assert layer.state_dict() == {}
    x = torch.rand(4, 3, 5, 7)
    weight, bias = layer.channel_affine()
    assert weight.shape == bias.shape == (3,)
    assert weight.dtype == bias.dtype == torch.float64  # the certifiers read it exactly
    by_affine = x * weight.view(1, 3, 1, 1) + bias.view(1, 3, 1, 1)
    torch.testing.assert_close(layer(x), by_affine.float(), rtol=1e-6, atol=1e-6)
    for c in range(3):  # Cohen et al.'s (x - mean) / std, channel by channel
        expected = (x[:, c] - CIFAR10_MEAN[c]) / CIFAR10_STD[c]
        torch.testing.assert_close(layer(x)[:, c], expected, rtol=1e-6, atol=1e-6)
    with pytest.raises(ValueError, match="expects"):
        layer(torch.rand(2, 1, 4, 4))
    with pytest.raises(ValueError, match="positive"):
        NormalizeLayer((0.5,), (0.0,))


def residual_blocks(model: nn.Module) -> list[nn.Module]:
    return [m for m in model.modules() if hasattr(m, "residual_parts")]


def block_input(block: nn.Module) -> torch.Tensor:
    conv = block.conv1
    return torch.randn(2, conv.in_channels, 16, 16)


@pytest.mark.parametrize(
    "model",
    [CifarResNet(20), CifarResNet(110), WideResNet(10, 2), WideResNet(34, 10)],
    ids=["resnet20", "resnet110", "wrn10-2", "wrn34-10"],
)
def test_every_residual_block_is_its_parts(model):
    randomize_batch_norm(model)
    blocks = residual_blocks(model)
    assert len(blocks) == {20: 9, 110: 54}.get(getattr(model, "depth", 0), len(blocks))
    assert blocks
    with torch.no_grad():
        for block in blocks:
            x = block_input(block)
            pre, body, shortcut, post = block.residual_parts()
            h = pre(x)
            torch.testing.assert_close(block(x), post(body(h) + shortcut(h)))


def test_wide_block_puts_the_shared_activation_in_pre():
    model = WideResNet(16, 2)
    first = model.block1.layer[0]  # 16 -> 32 channels: a conv shortcut
    pre, _, shortcut, post = first.residual_parts()
    assert isinstance(shortcut, nn.Conv2d) and isinstance(post, nn.Identity)
    assert [type(m) for m in pre] == [nn.BatchNorm2d, nn.ReLU]
    same = model.block1.layer[1]
    pre, body, shortcut, _ = same.residual_parts()
    assert isinstance(pre, nn.Identity) and isinstance(shortcut, nn.Identity)
    assert isinstance(body[0], nn.BatchNorm2d)


@pytest.mark.parametrize("model", [CifarResNet(20), WideResNet(10, 2)], ids=["resnet", "wrn"])
def test_forward_is_the_composition_of_the_forward_sequence(model):
    randomize_batch_norm(model)
    x = torch.randn(3, 3, 32, 32)
    with torch.no_grad():
        out = x
        for module in model.forward_sequence():
            out = module(out)
        torch.testing.assert_close(model(x), out)
    assert model(x).shape == (3, 10)


def test_every_architecture_builds_and_names_its_dataset():
    assert set(ARCHITECTURES) >= {"mlp", "cifar_resnet20", "cifar_resnet110", "resnet50"}
    assert {a.dataset for a in ARCHITECTURES.values()} <= {"digits", "cifar10", "imagenet"}
    with pytest.raises(ValueError, match="unknown architecture"):
        build("resnet9000")
    with pytest.raises(ValueError, match="6n \\+ 2"):
        CifarResNet(21)
    with pytest.raises(ValueError, match="6n \\+ 4"):
        WideResNet(33, 10)
