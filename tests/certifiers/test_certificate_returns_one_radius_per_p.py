"""A certificate returns one real radius per probability. A table entry that returns one
value for the batch, a column, a Python float, complex or text radii is refused by
``Certifier.radius`` with an error naming the certifier and its module, never broadcast
over the batch or cast (a complex radius lost its imaginary part, text was parsed)."""

from __future__ import annotations

import numpy as np
import pytest

from certifiers.base import Certificate, Certifier
from certifiers.testing import check_certifier
from harness.noise import Laplace

NOISE = Laplace(0.5, 4)


def _teng(p):
    with np.errstate(divide="ignore"):
        return -0.5 * np.log(2.0 * (1.0 - p))


RETURNS = {
    "one-for-the-batch": lambda p: _teng(p[:1]),
    "column": lambda p: _teng(p)[:, None],
    "python-float": lambda p: float(_teng(p[0])),
    "complex": lambda p: _teng(p) + 0j,
    "text": lambda p: [repr(float(v)) for v in _teng(p)],
    "bool": lambda p: p > 0.9,
}
ACCEPTED = {
    "float32": lambda p: _teng(p).astype(np.float32),
    "float64": _teng,
    "list": lambda p: list(_teng(p)),
}


class Returning(Certifier):
    name = "returning-test"
    certificates = {
        ("laplace", "l1"): Certificate(lambda c, noise, p: {**RETURNS, **ACCEPTED}[c.kind](p))
    }

    def __init__(self, kind: str) -> None:
        self.kind = kind


@pytest.mark.parametrize("kind", sorted(RETURNS))
def test_a_result_that_is_not_one_real_radius_per_p_is_refused(kind):
    with pytest.raises(TypeError) as err:
        Returning(kind).radius(NOISE, np.array([0.6, 0.8, 0.99]), norm="l1")
    text = str(err.value)
    assert "'returning-test'" in text and __name__ in text
    with pytest.raises(AssertionError):
        check_certifier(Returning(kind), [NOISE], norms=["l1"], max_examples=5)


def test_one_radius_per_p_of_any_real_dtype_is_taken():
    p = np.array([0.6, 0.8, 0.99])
    for kind in ACCEPTED:
        r = Returning(kind).radius(NOISE, p, norm="l1")
        assert r.dtype == np.float64 and r.shape == (3,)
        np.testing.assert_allclose(r, _teng(p), rtol=1e-6)
    assert Returning("one-for-the-batch").radius(NOISE, 0.8, norm="l1") > 0  # one p: fine


@pytest.mark.parametrize(
    "fields,what",
    [
        ({"radius": lambda noise, p: p}, "Certificate.radius"),
        ({"radius": _teng}, "Certificate.radius"),
        ({"radius": lambda c, nz, p: p, "applies": lambda: True}, "Certificate.applies"),
        ({"radius": lambda c, nz, p: p, "spends": lambda nz: 0.0}, "Certificate.spends"),
        ({"radius": 0.5}, "Certificate.radius must be callable"),
    ],
    ids=["radius-two", "radius-one", "applies-none", "spends-one", "not-callable"],
)
def test_a_table_entry_that_cannot_take_its_arguments_is_refused_when_written(fields, what):
    with pytest.raises(TypeError, match=what):
        Certificate(**fields)


def test_entries_that_take_their_arguments_are_written():
    Certificate(lambda c, noise, p, extra=1: p)
    Certificate(lambda *args: args[-1], applies=lambda noise, **kw: True)
