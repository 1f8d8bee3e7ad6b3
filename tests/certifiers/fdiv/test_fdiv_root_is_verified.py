"""``certifiers.fdiv.divergences._root`` returns a radius at which the certification
condition ``F(eps) < 0`` holds, also when ``F`` is flat at 0 on an interval around the
root (as a float divergence is near its crossing): a candidate found just below the
solver's root must be re-checked, and so must the bracket's lower end."""

from __future__ import annotations

import numpy as np
import pytest

from certifiers.fdiv import divergences as fd


def _plateau(start: float, width: float):
    """Non-decreasing in eps: negative below ``start``, exactly 0 on
    ``[start, start + width]``, positive above."""

    def F(eps: np.ndarray, p: np.ndarray) -> np.ndarray:
        eps = np.asarray(eps, dtype=np.float64)
        below = np.minimum(eps - start, 0.0)
        above = np.maximum(eps - start - width, 0.0)
        return below + above + 0.0 * p

    return F


@pytest.mark.parametrize("width", [1e-11, 1e-9, 3e-9, 1e-7])
@pytest.mark.parametrize("start", [0.37, 1.0, 5.5])
def test_root_is_a_point_where_the_condition_holds(start, width):
    F = _plateau(start, width * start)
    p = np.array([0.9, 0.99])
    r = fd._root(F, p, scale=1.0, eps_cap=np.inf)
    assert np.all(F(r, p) < 0), (start, width, r)
    assert np.all(r < start)
    if width <= 3e-9:  # a plateau wider than the solver's last step-down (1e-8) may cost more
        assert np.all(r > start * (1 - 1e-7))  # and not needlessly far below


def test_root_with_a_plain_increasing_condition():
    """``F(eps) = eps^2 - c``: the largest certified eps is just below ``sqrt(c)``."""
    c = np.array([0.01, 1.0, 7.0, 1e4])

    def F(eps: np.ndarray, p: np.ndarray) -> np.ndarray:
        return np.asarray(eps, dtype=np.float64) ** 2 - p

    r = fd._root(F, c, scale=1.0, eps_cap=np.inf)
    assert np.all(r**2 < c)
    assert np.allclose(r, np.sqrt(c), rtol=1e-9, atol=0.0)
