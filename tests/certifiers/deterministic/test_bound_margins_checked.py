"""What a deterministic certifier's ``bound_margins`` returns is checked: one bound per
input and row of the spec, in the bound's dtype. A plugin returning the ``C - 1`` rows
without the label's (auto_LiRPA's convention) had one class's margin never looked at,
in ``certify`` and in the bisection's radius, which came out larger than IBP's: a false
guarantee. Other shapes failed as internal errors naming no certifier."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from certifiers.deterministic import IBP

CHANGES = {
    "one_row_left_out": lambda m: m[:, :-1],
    "one_input_for_all": lambda m: m[:1],
    "a_trailing_axis": lambda m: m.unsqueeze(-1),
    "a_list": lambda m: m.tolist(),
    "float32": lambda m: m.float(),  # rounded to nearest: a bound may round up
}


def _model() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Flatten(), nn.Linear(16, 12), nn.ReLU(), nn.Linear(12, 5)).double()


def _changed(change) -> IBP:
    class Changed(IBP):
        name = "changed-ibp"

        def bound_margins(self, network, box, spec):
            return change(super().bound_margins(network, box, spec))

    return Changed()


@pytest.mark.parametrize("case", sorted(CHANGES))
@pytest.mark.parametrize("call", ["certify", "certified_radius", "margin_bounds"])
def test_bounds_of_another_shape_or_dtype_are_refused_naming_the_certifier(case, call):
    model = _model()
    x = torch.rand(6, 1, 4, 4, generator=torch.Generator().manual_seed(1)).double()
    with torch.no_grad():
        y = model(x).argmax(1)
    certifier = _changed(CHANGES[case])
    args = (model, x, y, 0.01) if call != "certified_radius" else (model, x, y)
    with pytest.raises(ValueError, match="changed-ibp.*bound_margins"):
        getattr(certifier, call)(*args)
    assert IBP().certified_radius(model, x, y).max() > 0  # the honest bounds certify here


@pytest.mark.parametrize("name", ["ibp", "crown"])
def test_bounds_for_training_may_come_in_autocasts_dtype(name):
    """Verified training under ``torch.autocast`` gets bfloat16 bounds from the built-ins:
    accepted for training, where nothing is certified."""
    import certifiers

    model = _model().float()
    x = torch.rand(6, 1, 4, 4, generator=torch.Generator().manual_seed(1))
    with torch.autocast("cpu", dtype=torch.bfloat16):
        margins = (
            type(certifiers.get(name))
            .for_training()
            .margin_bounds(model, x, torch.arange(6) % 5, 0.01)
        )
    assert margins.shape == (6, 5) and margins.dtype == torch.bfloat16
