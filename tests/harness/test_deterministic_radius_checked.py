"""What a deterministic certifier returns is checked before it is stored: a plugin that
overrides ``certified_radius`` and returns NaN (which ``torch.maximum`` with the grid's
certified eps passes on), a bool mask (read as radius 1, the whole input cube), an
infinite radius (clamped to 1, the same), a float16 radius (rounded up as often as down)
or one radius for several images was stored as it came, or aborted the run with an
internal error naming no certifier; so did a ``certify`` whose mask is not one bool per
image. A radius given as a list, a numpy array or integers is read as its numbers."""

from __future__ import annotations

import sqlite3

import pytest
import torch

from certifiers.deterministic import IBP
from harness import runner
from harness.config import parse

BAD_RADII = {
    "nan": lambda radius: torch.full_like(radius, float("nan")),
    "one_for_all": lambda radius: radius[:1],  # broadcast over the images by torch.maximum
    "negative": lambda radius: radius - 1.0,  # a bug, whatever the grid's eps hide
    "bool": lambda radius: radius > 0,  # the mask of the certified, not their radii
    "inf": lambda radius: torch.where(radius > 0, torch.inf, 0.0),
    "float16": lambda radius: radius.half(),
    "text": lambda radius: [f"{float(r)}" for r in radius],
    "ragged": lambda radius: [[float(r)] for r in radius[:-1]] + [[]],
}

#: The radii as the same numbers in other types: stored as IBP's own.
SAME_RADII = {
    "list": lambda radius: radius.tolist(),
    "numpy": lambda radius: radius.numpy(),
    "float32": lambda radius: radius.float(),
    "integers": lambda radius: (radius * 0).long(),  # radius 0: the grid's eps remain
}

BAD_CERTIFY = {
    "one_mask_for_all": lambda result: result.certified[:1],
    "float_mask": lambda result: result.certified.double(),
    "list_mask": lambda result: result.certified.tolist()[:-1],
}


def _config(*names: str):
    return parse(
        {
            "run": {"name": "det", "dataset": "digits", "seed": 1, "n_test": 4, "n0": 10,
                    "n": 100, "batch_size": 100},
            "models": [{"recipe": "mlp", "sigma0": 0.25}],
            "noises": [{"family": "gaussian"}],
            "certify": {"certifiers": ["cohen", *names], "alpha": [0.001]},
            "report": {"radii": {"linf": [0.0, 0.005]}},
        }
    )  # fmt: skip


def _radius_plugin(plugins, change) -> str:
    class Overriding(IBP):
        def certified_radius(self, model, x, y, norm="linf"):
            return change(super().certified_radius(model, x, y, norm=norm))

    plugins.certifier("overriding-ibp", Overriding)
    return "overriding-ibp"


def _stored_radii(path, certifier: str) -> list[float]:
    with sqlite3.connect(path) as db:
        query = "SELECT radius FROM deterministic_radii WHERE certifier = ? ORDER BY image"
        return [r for (r,) in db.execute(query, (certifier,))]


@pytest.mark.parametrize("case", sorted(BAD_RADII))
def test_an_invalid_deterministic_radius_is_refused_naming_the_certifier(tmp_path, plugins, case):
    name = _radius_plugin(plugins, BAD_RADII[case])
    with pytest.raises(ValueError, match=f"{name}.*radii"):
        runner.run(_config(name), tmp_path / "s.sqlite", progress=False)
    assert _stored_radii(tmp_path / "s.sqlite", name) == []


@pytest.mark.parametrize("case", sorted(SAME_RADII))
def test_radii_of_other_types_are_stored_as_their_numbers(tmp_path, plugins, case):
    name = _radius_plugin(plugins, SAME_RADII[case])
    path = tmp_path / "s.sqlite"
    runner.run(_config("ibp", name), path, progress=False)
    stored, honest = _stored_radii(path, name), _stored_radii(path, "ibp")
    assert len(stored) == len(honest) == 4 and max(honest) > 0
    if case == "integers":  # the largest eps of the grid each image is certified at
        with sqlite3.connect(path) as db:
            grid = [e for (e,) in db.execute(
                "SELECT MAX(eps * certified) FROM deterministic_certificates "
                "WHERE certifier = ? GROUP BY image ORDER BY image", (name,))]  # fmt: skip
        assert stored == grid
    elif case == "float32":  # rounded to nearest: within float32's resolution of IBP's
        assert stored == pytest.approx(honest, rel=2**-23, abs=0)
    else:
        assert stored == honest


@pytest.mark.parametrize("case", sorted(BAD_CERTIFY))
def test_a_certify_mask_not_one_bool_per_image_is_refused(tmp_path, plugins, case):
    change = BAD_CERTIFY[case]

    class Overriding(IBP):
        def certify(self, model, x, y, eps, norm="linf"):
            result = super().certify(model, x, y, eps, norm=norm)
            return type(result)(change(result), result.margins, result.worst_margin,
                                result.prediction)  # fmt: skip

    plugins.certifier("masking-ibp", Overriding)
    with pytest.raises(ValueError, match="masking-ibp.*certified"):
        runner.run(_config("masking-ibp"), tmp_path / "s.sqlite", progress=False)
