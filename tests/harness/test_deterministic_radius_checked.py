"""What a deterministic certifier returns is checked before it is stored: a plugin that
overrides ``certified_radius`` and returns NaN (which ``torch.maximum`` with the grid's
certified eps passes on), a bool mask (read as radius 1, the whole input cube), a bool
among the numbers of a list (the same), an infinite radius (clamped to 1, the same) or
one radius for several images was stored as it came, or aborted the run with an
internal error naming no certifier; so did a ``certify`` whose mask, prediction or
margin is not one value of its kind per image. Radii given as a list, a numpy array of
any layout or byte order, or integers are read as their numbers; a float narrower than
float64 (rounded to nearest from the eps certified, up as often as down) is stored one
unit of its own below, never above the radius computed."""

from __future__ import annotations

import sqlite3

import numpy as np
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
    "bool_in_a_list": lambda radius: [True, *radius.tolist()[1:]],  # numpy reads it as 1.0
    "inf": lambda radius: torch.where(radius > 0, torch.inf, 0.0),
    "complex": lambda radius: radius.to(torch.complex128),
    "text": lambda radius: [f"{float(r)}" for r in radius],
    "ragged": lambda radius: [[float(r)] for r in radius[:-1]] + [[]],
}

#: The radii as the same numbers in other types: stored as IBP's own.
SAME_RADII = {
    "list": lambda radius: radius.tolist(),
    "numpy": lambda radius: radius.numpy(),
    "numpy_negative_strides": lambda radius: radius.numpy()[::-1].copy()[::-1],
    "numpy_big_endian": lambda radius: radius.numpy().astype(">f8"),
    "integers": lambda radius: (radius * 0).long(),  # radius 0: the grid's eps remain
    "unsigned": lambda radius: (radius * 0).numpy().astype(np.uint32),
}

#: Narrower floats, of a radius that is no dyadic number (seven tenths of IBP's)
NARROW = {
    "float32": lambda radius: radius.float(),
    "float16": lambda radius: radius.half(),
    "bfloat16": lambda radius: radius.bfloat16(),
    "numpy_float32": lambda radius: radius.numpy().astype(np.float32),
    # numpy widens float32 among float64 numbers unstepped: each element is read
    "float32_in_a_list": lambda radius: [np.float32(r) for r in radius[:-1]] + [0.0],
}

BAD_CERTIFY = {
    "one_mask_for_all": ("certified", lambda result: result.certified[:1]),
    "float_mask": ("certified", lambda result: result.certified.double()),
    "list_mask": ("certified", lambda result: result.certified.tolist()[:-1]),
    "float_prediction": ("prediction", lambda result: result.prediction.double()),
    "integer_margin": ("worst_margin", lambda result: result.worst_margin.long()),
    "one_margin_for_all": ("worst_margin", lambda result: result.worst_margin[:1]),
    # numpy reads a bool among integers as one
    "bool_in_a_prediction_list": ("prediction", lambda result: [True, *result.prediction[1:]]),
}

#: A certify result's values in other types: stored as IBP's own.
SAME_CERTIFY = {
    "list_mask": ("certified", lambda result: result.certified.tolist()),
    "numpy_mask": ("certified", lambda result: result.certified.numpy()),
    "list_prediction": ("prediction", lambda result: result.prediction.tolist()),
    "list_margin": ("worst_margin", lambda result: result.worst_margin.tolist()),
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


def _radius_plugin(plugins, change, computed: list | None = None) -> str:
    """A plugin returning ``change`` of IBP's radii; ``computed``: where to keep the
    float64 radii it changed."""

    class Overriding(IBP):
        def certified_radius(self, model, x, y, norm="linf"):
            radius = super().certified_radius(model, x, y, norm=norm)
            if computed is not None:
                computed.extend(radius.tolist())
            return change(radius)

    plugins.certifier("overriding-ibp", Overriding)
    return "overriding-ibp"


def _stored_radii(path, certifier: str) -> list[float]:
    with sqlite3.connect(path) as db:
        query = "SELECT radius FROM deterministic_radii WHERE certifier = ? ORDER BY image"
        return [r for (r,) in db.execute(query, (certifier,))]


def _grid_radii(path, certifier: str) -> list[float]:
    """The largest eps of the grid each image is certified at."""
    with sqlite3.connect(path) as db:
        return [e for (e,) in db.execute(
            "SELECT MAX(eps * certified) FROM deterministic_certificates "
            "WHERE certifier = ? GROUP BY image ORDER BY image", (certifier,))]  # fmt: skip


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
    if case in ("integers", "unsigned"):
        assert stored == _grid_radii(path, name)
    else:
        assert stored == honest


@pytest.mark.parametrize("case", sorted(NARROW))
def test_a_narrower_float_radius_is_stored_below_the_radius_computed(tmp_path, plugins, case):
    computed: list[float] = []
    name = _radius_plugin(plugins, lambda r: NARROW[case](0.7 * r), computed)
    path = tmp_path / "s.sqlite"
    runner.run(_config(name), path, progress=False)
    bound = [max(0.7 * r, g) for r, g in zip(computed, _grid_radii(path, name), strict=True)]
    stored = _stored_radii(path, name)
    assert max(computed) > 0 and len(stored) == 4
    assert all(s <= b for s, b in zip(stored, bound, strict=True)), (stored, bound)
    assert stored == pytest.approx(bound, rel=2**-6)  # within bfloat16's two units


def _certify_plugin(plugins, field: str, change) -> str:
    """A plugin whose ``certify`` returns ``change`` of IBP's result as its ``field``."""

    class Overriding(IBP):
        def certify(self, model, x, y, eps, norm="linf"):
            result = super().certify(model, x, y, eps, norm=norm)
            values = {"certified": result.certified, "worst_margin": result.worst_margin,
                      "prediction": result.prediction, field: change(result)}  # fmt: skip
            return type(result)(values["certified"], result.margins, values["worst_margin"],
                                values["prediction"])  # fmt: skip

    plugins.certifier("masking-ibp", Overriding)
    return "masking-ibp"


@pytest.mark.parametrize("case", sorted(BAD_CERTIFY))
def test_a_certify_result_not_one_value_of_its_kind_per_image_is_refused(tmp_path, plugins, case):
    field, change = BAD_CERTIFY[case]
    name = _certify_plugin(plugins, field, change)
    with pytest.raises(ValueError, match=f"{name}.*{field}"):
        runner.run(_config(name), tmp_path / "s.sqlite", progress=False)


@pytest.mark.parametrize("case", sorted(SAME_CERTIFY))
def test_a_certify_result_of_other_types_is_stored_as_its_values(tmp_path, plugins, case):
    """A list of bools was refused as no bool per image."""
    name = _certify_plugin(plugins, *SAME_CERTIFY[case])
    path = tmp_path / "s.sqlite"
    runner.run(_config("ibp", name), path, progress=False)
    with sqlite3.connect(path) as db:
        query = (
            "SELECT eps, image, certified, margin FROM deterministic_certificates "
            "WHERE certifier = ? ORDER BY eps, image"
        )
        stored, honest = (db.execute(query, (c,)).fetchall() for c in (name, "ibp"))
    assert len(stored) == 8 and any(row[2] for row in honest), honest
    assert stored == honest
