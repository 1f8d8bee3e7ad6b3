"""The public conformance kit for certifiers, in the spirit of scikit-learn's
``check_estimator``: every certifier, built-in or third-party, must pass it.

    from certifiers.testing import check_certifier
    def test_my_certifier():
        check_certifier(MyCertifier(), [Gaussian(0.5, dim=4), Gaussian(0.25, dim=64)])

Properties (hypothesis drives the probabilities), for every (noise, norm) pair the
certifier supports:

1. radius 0 at ``p <= 1/2`` (abstain);
2. monotone non-decreasing in ``p``;
3. vectorized equals scalar, and shapes are preserved (scalar in, float out);
4. bad input refused with ValueError/TypeError: NaN, p outside [0, 1], strings, unknown
   norms, a noise it does not support;
5. picklable (same radii after a round trip);
6. sound: for noises of small dimension (``dim <= 16``) the certified radius never
   exceeds what the Neyman-Pearson lemma allows, estimated by Monte Carlo. At radius
   ``R(p)`` and for several shifts ``delta`` on the norm sphere of radius R (axis,
   diagonal and random directions), the smallest probability that the shifted noise can
   give a set of unshifted mass ``p``, ``E_0[ratio * 1{ratio <= t_p}]`` with
   ``ratio = pi_delta / pi_0``, must be at least 1/2 up to Monte Carlo error. This is a
   necessary check against the directions tried, not a proof over all directions.
"""

from __future__ import annotations

import math
import pickle
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from certifiers.base import NORMS, Certifier
from harness.noise.base import Noise

_NP_DIM_LIMIT = 16
_NP_P_GRID = (0.55, 0.7, 0.9, 0.99)


class _AlienNoise(Noise):
    """A noise no certifier can know: used to check that unsupported pairs are refused."""

    family = "alien"

    def __init__(self, dim: int = 2) -> None:
        self.dim = dim

    def params(self) -> dict[str, Any]:
        return {"dim": self.dim}

    def transform(self, G: torch.Tensor, out: torch.Tensor | None = None) -> torch.Tensor:
        return G.clone() if out is None else out.copy_(G)

    def log_prob(self, z: torch.Tensor) -> torch.Tensor:
        return -(z * z).sum(-1) / 2


def _settings(max_examples: int):
    return settings(
        max_examples=max_examples,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )


def _close(a: np.ndarray, b: np.ndarray, rtol: float = 1e-9) -> bool:
    a, b = np.asarray(a, float), np.asarray(b, float)
    same_inf = np.isinf(a) & np.isinf(b) & (np.sign(a) == np.sign(b))
    return bool(np.all(same_inf | np.isclose(a, b, rtol=rtol, atol=1e-12)))


def supported_pairs(
    certifier: Certifier, noises: Iterable[Noise], norms: Sequence[str] = NORMS
) -> list[tuple[Noise, str]]:
    return [(nz, nm) for nz in noises for nm in norms if certifier.supports(nz, nm)]


def check_abstains_at_half(c: Certifier, noise: Noise, norm: str, max_examples: int = 50) -> None:
    @_settings(max_examples)
    @given(st.floats(0.0, 0.5))
    def prop(p: float) -> None:
        r = c.radius(noise, p, norm=norm)
        assert r == 0.0, f"{c.name}: radius {r} at p={p} <= 1/2 for {noise.name}, {norm}"

    prop()


def check_monotone(c: Certifier, noise: Noise, norm: str, max_examples: int = 50) -> None:
    @_settings(max_examples)
    @given(st.floats(0.0, 1.0), st.floats(0.0, 1.0))
    def prop(p1: float, p2: float) -> None:
        lo, hi = min(p1, p2), max(p1, p2)
        r_lo, r_hi = c.radius(noise, lo, norm=norm), c.radius(noise, hi, norm=norm)
        assert r_lo <= r_hi * (1 + 1e-9) + 1e-12, (
            f"{c.name} not monotone for {noise.name}, {norm}: R({lo})={r_lo} > R({hi})={r_hi}"
        )

    prop()


def check_vectorized(c: Certifier, noise: Noise, norm: str, max_examples: int = 25) -> None:
    @_settings(max_examples)
    @given(st.lists(st.floats(0.0, 1.0), min_size=1, max_size=12))
    def prop(ps: list[float]) -> None:
        arr = np.asarray(ps)
        vec = c.radius(noise, arr, norm=norm)
        assert isinstance(vec, np.ndarray) and vec.shape == arr.shape
        scal = np.array([c.radius(noise, p, norm=norm) for p in ps])
        assert all(isinstance(c.radius(noise, p, norm=norm), float) for p in ps[:2])
        assert _close(vec, scal), f"{c.name}: vectorized {vec} != scalar {scal}"
        grid = c.radius(noise, arr.reshape(1, -1, 1), norm=norm)
        assert grid.shape == (1, arr.size, 1) and _close(grid.ravel(), vec)

    prop()


def _expect_error(fn, what: str) -> None:
    try:
        fn()
    except (ValueError, TypeError):
        return
    raise AssertionError(f"bad input accepted: {what}")


def check_rejects_bad_input(c: Certifier, noise: Noise, norm: str) -> None:
    for bad in (float("nan"), -0.1, 1.1, np.array([0.7, float("nan")]), "0.9", None):
        _expect_error(lambda bad=bad: c.radius(noise, bad, norm=norm), f"p={bad!r}")
    for bad_norm in ("l3", "L2", None, 2):
        _expect_error(lambda n=bad_norm: c.radius(noise, 0.9, norm=n), f"norm={bad_norm!r}")
    alien = _AlienNoise(noise.dim)
    assert not c.supports(alien, norm), f"{c.name} claims to support an unknown noise"
    _expect_error(lambda: c.radius(alien, 0.9, norm=norm), "an unsupported noise")
    _expect_error(lambda: c.radius("gaussian", 0.9, norm=norm), "a string as noise")


def check_picklable(c: Certifier, noise: Noise, norm: str) -> None:
    clone = pickle.loads(pickle.dumps(c))
    ps = np.array([0.3, 0.6, 0.9, 0.999])
    assert _close(clone.radius(noise, ps, norm=norm), c.radius(noise, ps, norm=norm))


def shift_directions(norm: str, dim: int, rng: np.random.Generator) -> list[np.ndarray]:
    """Unit-norm (in ``norm``) shift directions: axis, diagonal and two random ones."""
    dirs = [np.eye(dim)[0], np.ones(dim), rng.standard_normal(dim), rng.standard_normal(dim)]
    order = {"l1": 1, "l2": 2, "linf": np.inf}[norm]
    return [d / np.linalg.norm(d, ord=order) for d in dirs]


def neyman_pearson_lower(
    noise: Noise, delta: np.ndarray, p: float, samples: int = 200_000, seed: int = 0
) -> tuple[float, float]:
    """Monte Carlo estimate (and standard error) of ``min E_delta[f]`` over ``f`` with
    ``E_0[f] = p``: the worst-case top-class probability after shifting by ``delta``.

    ``f`` takes the lowest likelihood ratios ``pi_delta / pi_0`` (Neyman-Pearson).
    """
    gen = torch.Generator().manual_seed(seed)
    z = noise.sample(samples, gen).to(torch.float64)
    shift = torch.as_tensor(delta, dtype=torch.float64)
    log_ratio = (noise.log_prob(z - shift) - noise.log_prob(z)).numpy()
    ratio = np.exp(np.sort(log_ratio))
    m = int(math.floor(p * samples))
    contrib = np.zeros(samples)
    contrib[:m] = ratio[:m]
    return float(contrib.mean()), float(contrib.std() / math.sqrt(samples))


def check_sound_against_neyman_pearson(
    c: Certifier, noise: Noise, norm: str, samples: int = 200_000, seed: int = 0
) -> None:
    if noise.dim > _NP_DIM_LIMIT:
        return
    rng = np.random.default_rng(seed)
    for p in _NP_P_GRID:
        r = c.radius(noise, p, norm=norm)
        if not (0 < r < math.inf):
            continue
        for unit in shift_directions(norm, noise.dim, rng):
            est, se = neyman_pearson_lower(noise, r * unit, p, samples, seed)
            assert est >= 0.5 - 4 * se - 2e-3, (
                f"{c.name} radius {r:.6g} at p={p} for {noise.name}, {norm} is not sound: "
                f"a shift of that size can lower the top-class probability to {est:.4f} "
                f"(+- {se:.4f}) < 1/2"
            )


def check_certifier(
    certifier: Certifier,
    noises: Iterable[Noise],
    norms: Sequence[str] = NORMS,
    *,
    max_examples: int = 40,
    mc_samples: int = 200_000,
) -> list[tuple[str, str]]:
    """Run the whole conformance suite; return the (noise name, norm) pairs checked.

    Raises AssertionError naming the property, noise and norm that failed, and
    ValueError if the certifier supports none of the given pairs.
    """
    pairs = supported_pairs(certifier, list(noises), norms)
    if not pairs:
        raise ValueError(f"{certifier.name} supports none of the noises and norms given")
    for noise, norm in pairs:
        check_abstains_at_half(certifier, noise, norm, max_examples)
        check_monotone(certifier, noise, norm, max_examples)
        check_vectorized(certifier, noise, norm, max(10, max_examples // 2))
        check_rejects_bad_input(certifier, noise, norm)
        check_picklable(certifier, noise, norm)
        check_sound_against_neyman_pearson(certifier, noise, norm, mc_samples)
    return [(noise.name, norm) for noise, norm in pairs]
