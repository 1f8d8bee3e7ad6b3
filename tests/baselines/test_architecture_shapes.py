"""The feature-map shapes of Cohen et al.'s CIFAR ResNet, stage by stage.

He et al. (2016, section 4.2) and Cohen et al.'s ``cifar_resnet.py``: the three stages
work on 32x32, 16x16 and 8x8 maps with 16, 32 and 64 channels; the first block of stages
2 and 3 halves the resolution. A network that keeps 16x16 in stage 3 and pools 16x16 has
the same state_dict keys and shapes, so a checkpoint loads into it without error.
"""

from __future__ import annotations

import torch

from baselines.architectures import build


def test_cifar_resnet_stages_halve_the_resolution_as_he_et_al():
    model = build("cifar_resnet20").eval()
    net = model[1]
    shapes = {}
    hooks = [
        getattr(net, name).register_forward_hook(
            lambda _m, _i, out, name=name: shapes.__setitem__(name, tuple(out.shape))
        )
        for name in ("layer1", "layer2", "layer3")
    ]
    with torch.no_grad():
        model(torch.rand(2, 3, 32, 32))
    for h in hooks:
        h.remove()
    assert shapes == {
        "layer1": (2, 16, 32, 32),
        "layer2": (2, 32, 16, 16),
        "layer3": (2, 64, 8, 8),
    }
    assert net.layer3[0].conv1.stride == (2, 2) and net.layer2[0].conv1.stride == (2, 2)
    assert net.layer3[0].downsample[0].stride == (2, 2)


def test_digits_mlp_centres_its_pixels_before_the_first_layer():
    """The docstring's ``centre the pixels, then 64 -> 256 -> 256 -> 10``: the cached
    state_dicts of the embedded recipes were trained with that forward (a change of it
    must bump ``RECIPE_VERSION``)."""
    torch.manual_seed(0)
    model = build("mlp").eval()
    x = torch.rand(4, 1, 8, 8, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        first = model.net[1]
        expected = first((x - 0.5).flatten(1))
        for layer in list(model.net)[2:]:
            expected = layer(expected)
        torch.testing.assert_close(model(x), expected, rtol=0, atol=0)
