"""A deterministic certifier's largest certified eps is checked before it is stored: a
plugin that overrides ``certified_radius`` and returns NaN (which ``torch.maximum`` with
the grid's certified eps passes on) or one radius for several images was stored as it
came, or aborted the run with SQLite's "NOT NULL constraint failed", naming no
certifier."""

from __future__ import annotations

import pytest
import torch

from certifiers.deterministic import IBP
from harness import runner
from harness.config import parse

CASES = {
    "nan": lambda radius: torch.full_like(radius, float("nan")),
    "one_for_all": lambda radius: radius[:1],  # broadcast over the images by torch.maximum
    "negative": lambda radius: radius - 1.0,  # a bug, whatever the grid's eps hide
}


def _config(name: str):
    return parse(
        {
            "run": {"name": "det", "dataset": "digits", "seed": 1, "n_test": 4, "n0": 10,
                    "n": 100, "batch_size": 100},
            "models": [{"recipe": "mlp", "sigma0": 0.25}],
            "noises": [{"family": "gaussian"}],
            "certify": {"certifiers": ["cohen", name], "alpha": [0.001]},
            "report": {"radii": {"linf": [0.0, 0.005]}},
        }
    )  # fmt: skip


@pytest.mark.parametrize("case", sorted(CASES))
def test_an_invalid_deterministic_radius_is_refused_naming_the_certifier(tmp_path, plugins, case):
    change = CASES[case]

    class Overriding(IBP):
        def certified_radius(self, model, x, y, norm="linf"):
            return change(super().certified_radius(model, x, y, norm=norm))

    plugins.certifier("overriding-ibp", Overriding)
    with pytest.raises(ValueError, match="overriding-ibp"):
        runner.run(_config("overriding-ibp"), tmp_path / "s.sqlite", progress=False)
