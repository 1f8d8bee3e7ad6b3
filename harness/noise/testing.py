"""The public conformance kit for noise families, the twin of
``certifiers.testing.check_certifier``: every family, built-in or third-party, must pass it.

    from harness.noise.testing import check_noise
    def test_my_noise():
        check_noise(MyNoise(scale=0.5, dim=5))

Properties, each checked on its own (``NOISE_PROPERTIES``):

- ``shape``: ``transform`` returns a tensor of the shape of the base draws ``G``,
  ``(rows, dim)``, called plainly and with ``out=``; checked first, as the properties
  that draw samples index them;
- ``law``: samples of ``transform`` follow the stated law: a Kolmogorov-Smirnov test of
  every marginal the family declares (``Noise.marginals``: radius, coordinates or the
  max-coordinate law), in float64 and in float32 (the sampler's dtype); an approximation
  in the transform (the radial tables of ``harness.noise.monotone_table``) is inside
  what is tested;
- ``log_prob``: ``log_prob`` is the log density of the samples up to a constant, by the
  change of variables ``E[g(z) pi(z - delta) / pi(z)] = E[g(z + delta)]`` (``g`` the
  support indicator, times a sigmoid of ``z_1`` so that the shape is tested too), for an
  axis and a diagonal shift;
- ``second_moment``: ``second_moment()`` agrees with the Monte Carlo mean of ``||z||^2``;
- ``matched``: ``type(noise).matched(sigma0, dim, **shape)`` has ``E||z||^2 = dim sigma0^2``
  (closed form and Monte Carlo);
- ``transform``: batch invariance, dtype and device kept, ``out=`` honoured, in place;
  a ``G`` of the wrong shape or type refused (``Noise.check_G``, as the built-in
  families do);
- ``perturb``: ``perturb(x, G, out)`` writes ``x + transform(G)`` into ``out`` (which the
  sampler reads) for batches of 1, 5 and more than a CPU tile's rows, ``G`` given as a
  ``Batch`` and as a tensor;
- ``tails``: base draws far in the tail (|G| up to 9, where float32 saturates Phi) map
  to finite values, monotone in |G| along the axis;
- ``spec``: ``from_spec(noise.spec()) == noise``, also after pickling;
- ``approximation``: every entry of ``approximation()`` states a ``tv_bound`` in
  ``[0, 1)``, so that ``law_distance()`` exists (certification subtracts it from
  ``p_lower``, and refuses a noise without it).

``check_noise`` runs them all and raises one ``AssertionError`` that lists every property
that failed, one line each: ``[property] name: message`` for a failed assertion, or
``[property] name: ExceptionType: message`` for any other exception the property raised;
the other properties still run. If ``shape`` fails, the properties that use the samples
(``law`` to ``tails``) are not run, and a last line says so. ``noise_checks`` yields the
properties one by one (the registry-wide tests give each its own pytest id).
"""

from __future__ import annotations

import math
import pickle
import re
from collections.abc import Callable

import numpy as np
import torch
from scipy import stats

from harness.noise.base import Noise
from harness.noise.preflight import check_perturb, preflight_rows
from harness.noise.registry import from_spec

NOISE_PROPERTIES = (
    "shape", "law", "log_prob", "second_moment", "matched", "transform", "perturb", "tails",
    "spec", "approximation",
)  # fmt: skip
#: The properties that call ``transform`` and index what it returns: not run when
#: ``shape`` fails.
_USE_SAMPLES = ("law", "log_prob", "second_moment", "matched", "transform", "perturb", "tails")
_MIN_P = 1e-4
_SE = 5.0


def describe_failure(err: BaseException) -> str:
    """One line for an exception raised by a property: an assertion's own message, or
    ``ExceptionType: message`` for any other exception, followed by the example
    hypothesis found, where it found one (its other notes are left out)."""
    if isinstance(err, BaseExceptionGroup):  # hypothesis found several distinct failures
        return " | ".join(describe_failure(e) for e in err.exceptions)
    text = str(err)
    if not isinstance(err, AssertionError) or not text:
        text = f"{type(err).__name__}: {text}" if text else type(err).__name__
    examples = [n for n in getattr(err, "__notes__", ()) if re.match(r"(Falsifying|Failing)", n)]
    for note in examples:
        note = " ".join(re.sub(r"  # [^\n]*", "", note).split())
        text += f" ({note.replace('( ', '(').replace(', )', ')')})"
    return " ".join(text.split())


def _check_returned_shape(noise: Noise, z: object, G: torch.Tensor, call: str) -> None:
    shape = tuple(G.shape)
    if not isinstance(z, torch.Tensor):
        raise AssertionError(
            f"{noise.name}: {call} returned {type(z).__name__} for base draws of shape "
            f"{shape}; it must return a tensor of shape (rows, dim) = {shape}"
        )
    assert z.shape == G.shape, (
        f"{noise.name}: {call} returned shape {tuple(z.shape)} for base draws of shape "
        f"{shape}; it must return (rows, dim) = {shape}"
    )


def _samples(noise: Noise, n: int, seed: int, dtype: torch.dtype = torch.float64) -> np.ndarray:
    gen = torch.Generator().manual_seed(seed)
    G = torch.randn(n, noise.dim, generator=gen, dtype=torch.float64).to(dtype)
    return noise.transform(G).to(torch.float64).numpy()


def check_shape(noise: Noise, rows: int = 3) -> None:
    """``transform(G)`` returns a tensor of the shape of ``G``, ``(rows, dim)``, and so
    does ``transform(G, out=buf)`` where it returns a tensor, in float64 and float32
    (whether it returns and fills ``buf`` is checked by ``check_transform``)."""
    gen = torch.Generator().manual_seed(4)
    for dtype in (torch.float64, torch.float32):
        G = torch.randn(rows, noise.dim, generator=gen, dtype=torch.float64).to(dtype)
        _check_returned_shape(noise, noise.transform(G.clone()), G, "transform")
        res = noise.transform(G.clone(), out=torch.empty_like(G))
        if isinstance(res, torch.Tensor):  # not returning buf is for ``transform`` to say
            _check_returned_shape(noise, res, G, "transform(G, out=buf)")


def check_law(noise: Noise, samples: int = 20_000, seed: int = 0) -> None:
    """KS test of every declared marginal against its stated law, for the float64
    transform and for the float32 one the sampler uses (device tables included)."""
    marginals = noise.marginals()
    assert marginals, (
        f"{noise.name}: the family states no marginal law (Noise.marginals), so its "
        "samples cannot be checked"
    )
    for dtype in (torch.float64, torch.float32):
        z = _samples(noise, samples, seed, dtype)
        for m in marginals:
            stat = np.asarray(m.statistic(z), dtype=np.float64)
            assert np.isfinite(stat).all(), f"{noise.name}: {m.name} is not finite on samples"
            res = stats.kstest(stat, m.cdf)
            assert res.pvalue > _MIN_P, (
                f"{noise.name}: the samples' {m.name} does not follow the stated law "
                f"({dtype}; KS statistic {res.statistic:.4f}, p = {res.pvalue:.2g})"
            )


def _coordinate_scale(noise: Noise) -> float:
    moment = noise.second_moment()
    if math.isfinite(moment) and moment > 0:
        return math.sqrt(moment / noise.dim)
    z = _samples(noise, 2000, 99)
    return float(np.median(np.abs(z)))


def check_log_prob(noise: Noise, samples: int = 100_000, seed: int = 1) -> None:
    """Change of variables: ``E[g(z) exp(lp(z - d) - lp(z))] = E[g(z + d)]``."""
    c = _coordinate_scale(noise)
    axis = np.zeros(noise.dim)
    axis[0] = 0.5 * c
    diagonal = np.full(noise.dim, 0.5 * c / math.sqrt(noise.dim))
    z = torch.from_numpy(_samples(noise, samples, seed))
    lp = noise.log_prob(z)
    assert lp.shape == (samples,), f"{noise.name}: log_prob returns shape {tuple(lp.shape)}"
    assert not torch.isnan(lp).any(), f"{noise.name}: log_prob is NaN on samples"
    assert (lp > -math.inf).all(), f"{noise.name}: log_prob is -inf on its own samples"
    for label, delta in (("axis", axis), ("diagonal", diagonal)):
        d = torch.from_numpy(delta)
        weight = torch.sigmoid(z[:, 0] / c)
        ratio = torch.exp(noise.log_prob(z - d) - lp)
        shifted = z + d
        lp_shifted = noise.log_prob(shifted)
        g_shifted = torch.where(lp_shifted > -math.inf, torch.sigmoid(shifted[:, 0] / c), 0.0)
        for name, w, g_s in (
            ("support", torch.ones_like(weight), (lp_shifted > -math.inf).double()),
            ("sigmoid(z_1)", weight, g_shifted),
        ):
            diff = (w * ratio - g_s).numpy()
            mean, se = float(diff.mean()), float(diff.std() / math.sqrt(samples))
            assert math.isfinite(mean) and abs(mean) <= _SE * se + 2e-3, (
                f"{noise.name}: log_prob does not match the samples ({label} shift of "
                f"{0.5 * c:.3g}, g = {name}): E[g(z) pi(z-d)/pi(z)] - E[g(z+d)] = "
                f"{mean:.4g} +- {se:.2g}"
            )


def _check_moment(noise: Noise, expected: float, samples: int, seed: int, what: str) -> None:
    z = _samples(noise, samples, seed)
    sq = (z * z).sum(axis=1)
    mean, se = float(sq.mean()), float(sq.std() / math.sqrt(samples))
    assert abs(mean - expected) <= _SE * se + 1e-12 * expected, (
        f"{noise.name}: {what} E||z||^2 = {expected:.6g}, but the samples give "
        f"{mean:.6g} +- {se:.2g}"
    )


def check_second_moment(noise: Noise, samples: int = 100_000, seed: int = 2) -> None:
    """``second_moment()`` against the Monte Carlo mean of ``||z||_2^2``."""
    moment = noise.second_moment()
    assert isinstance(moment, float), f"{noise.name}: second_moment() must return a float"
    if not math.isfinite(moment):
        z = _samples(noise, samples, seed)
        assert np.isfinite(z).all(), f"{noise.name}: non-finite samples"
        return  # an infinite moment has no Monte Carlo check
    _check_moment(noise, moment, samples, seed, "second_moment() says")


def check_matched(noise: Noise, sigma0: float = 0.3, samples: int = 50_000, seed: int = 3) -> None:
    """``matched(sigma0, dim, **shape)`` has ``E||z||^2 = dim * sigma0^2``."""
    try:
        probe = type(noise)(**{**noise.params(), noise.scale_param: 1.0})
        finite = math.isfinite(probe.second_moment())
    except (ValueError, TypeError) as err:
        raise AssertionError(f"{noise.name}: cannot rebuild at unit scale: {err}") from None
    if not finite:
        try:
            type(noise).matched(sigma0, noise.dim, **noise.shape_params())
        except ValueError:
            return  # refused with a clear error, as it must be
        raise AssertionError(f"{noise.name}: matched accepted a law with no second moment")
    m = type(noise).matched(sigma0, noise.dim, **noise.shape_params())
    assert type(m) is type(noise) and m.shape_params() == noise.shape_params(), (
        f"{noise.name}: matched changed the family or its shape parameters: {m.name}"
    )
    want = noise.dim * sigma0**2
    assert math.isclose(m.second_moment(), want, rel_tol=1e-9), (
        f"{noise.name}: matched({sigma0}) has E||z||^2 = {m.second_moment():.10g}, "
        f"not dim * sigma0^2 = {want:.10g}"
    )
    _check_moment(m, want, samples, seed, "matched to sigma0 = 0.3 must have")


def _devices() -> list[torch.device]:
    out = [torch.device("cpu")]
    if torch.cuda.is_available():
        out.append(torch.device("cuda"))
    return out


def check_transform(noise: Noise) -> None:
    """Shape, dtype and device kept; ``out=`` (and in place) equals the plain call; rows
    transformed independently of the batch; bad input refused."""
    for device in _devices():
        gen = torch.Generator(device=device).manual_seed(3)
        for dtype in (torch.float32, torch.float64):
            G = torch.randn(257, noise.dim, generator=gen, dtype=dtype, device=device)
            z = noise.transform(G)
            where = f"{noise.name} ({dtype}, {device})"
            _check_returned_shape(noise, z, G, f"transform ({dtype}, {device})")
            assert z.dtype == dtype, f"{where}: returns {z.dtype}"
            assert z.device == G.device, f"{where}: returns on {z.device}"
            assert torch.isfinite(z).all(), f"{where}: non-finite noise"
            buf = torch.empty_like(G)
            res = noise.transform(G, out=buf)
            assert res is buf and torch.equal(buf, z), f"{where}: out= differs or not used"
            G2 = G.clone()
            noise.transform(G2, out=G2)
            assert torch.equal(G2, z), f"{where}: in place (out=G) differs"
            assert torch.equal(noise.transform(G[100:101]), z[100:101]), (
                f"{where}: a row's noise depends on the batch it is in"
            )
            assert torch.equal(noise.transform(G[:40]), z[:40]), f"{where}: not batch invariant"
    for bad, error, what, expected in (
        (
            torch.zeros(3, noise.dim + 1), ValueError,
            f"base draws of shape (3, {noise.dim + 1})", f"(n, {noise.dim})",
        ),
        (np.zeros((3, noise.dim)), TypeError, "a numpy array", "a torch.Tensor"),
    ):  # fmt: skip
        try:
            noise.transform(bad)
        except error:
            continue
        except Exception as err:
            did = f"it raised {type(err).__name__}: {err}"
        else:
            did = "it accepted them"
        raise AssertionError(
            f"{noise.name}: transform must refuse {what} (expected {expected}) with "
            f"{error.__name__}, but {did}; use Noise's input check: call self.check_G(G) "
            "first in transform, as the built-in families do"
        )


def check_perturb_writes_out(noise: Noise) -> None:
    """``perturb(x, G, out)`` writes ``x + transform(G)`` into ``out`` and returns it (the
    sampler reads ``out`` alone), for 1, 5 and a CPU tile's rows and more, with ``G`` as a
    ``Batch`` and as a tensor (``harness.noise.preflight``, which a run applies to one
    size)."""
    noise.prepare("cpu")
    for rows in (1, 5, preflight_rows(noise.dim)):
        for as_batch in (True, False):
            try:
                check_perturb(noise, rows=rows, as_batch=as_batch)
            except ValueError as err:
                given = "a Batch" if as_batch else "a tensor"
                raise AssertionError(f"{err} ({rows} rows, G given as {given})") from None


def check_tails(noise: Noise, magnitudes=(0.0, 1.0, 5.0, 5.4, 5.5, 6.0, 7.0, 8.0, 9.0)) -> None:
    """Base draws far in the tail map to finite values, monotone in ``|G|``."""
    t = torch.tensor(magnitudes, dtype=torch.float32)
    for sign in (1.0, -1.0):
        G = torch.zeros(len(magnitudes), noise.dim, dtype=torch.float32)
        G[:, 0] = sign * t
        if noise.dim > 1:
            G[:, 1:] = 0.3
        z = noise.transform(G)
        assert torch.isfinite(z).all(), f"{noise.name}: tail base draws give {z[:, 0]}"
        lead = (sign * z[:, 0]).double().numpy()
        assert np.all(np.diff(lead) >= 0), (
            f"{noise.name}: noise not monotone in the base draw along the axis: {lead}"
        )


def check_spec(noise: Noise) -> None:
    """``from_spec(spec) == noise`` and the same after pickling."""
    clone = from_spec(noise.spec())
    assert clone == noise and type(clone) is type(noise) and clone.name == noise.name, (
        f"{noise.name}: from_spec(noise.spec()) gives {clone!r}"
    )
    assert pickle.loads(pickle.dumps(noise)) == noise, f"{noise.name}: pickling changes it"


def check_approximation(noise: Noise) -> None:
    """``law_distance()`` exists: every approximation states its total variation bound."""
    try:
        distance = noise.law_distance()
    except ValueError as err:
        raise AssertionError(str(err)) from None
    assert 0.0 <= distance < 1.0, f"{noise.name}: law_distance() is {distance!r}"


_CHECKS: dict[str, Callable[[Noise], None]] = {
    "shape": check_shape,
    "law": check_law,
    "log_prob": check_log_prob,
    "second_moment": check_second_moment,
    "matched": check_matched,
    "transform": check_transform,
    "perturb": check_perturb_writes_out,
    "tails": check_tails,
    "spec": check_spec,
    "approximation": check_approximation,
}


def noise_checks(noise: Noise) -> list[tuple[str, Callable[[], None]]]:
    """``(property, check)`` pairs, one per property of ``NOISE_PROPERTIES``."""
    return [(prop, lambda fn=_CHECKS[prop]: fn(noise)) for prop in NOISE_PROPERTIES]


def check_noise(noise: Noise) -> None:
    """Run every property on ``noise``; raise one ``AssertionError`` listing each failure.

    Any exception a property raises (not only an ``AssertionError``) is a failure of that
    property, and the others still run; if ``shape`` fails, the properties that use the
    samples (``law`` to ``tails``) are not run, and the message says so."""
    if not isinstance(noise, Noise):
        raise TypeError(f"check_noise takes a harness.noise.Noise, got {type(noise).__name__}")
    failures: list[str] = []
    skipped: list[str] = []
    for prop, check in noise_checks(noise):
        if prop in _USE_SAMPLES and any(f.startswith("[shape]") for f in failures):
            skipped.append(prop)
            continue
        try:
            check()
        except Exception as err:
            text = describe_failure(err)
            if not (isinstance(err, AssertionError) and text.startswith(noise.name)):
                text = f"{noise.name}: {text}"
            failures.append(f"[{prop}] {text}")
    if skipped:
        failures.append(f"not run, as transform's shape is wrong: {', '.join(skipped)}")
    if failures:
        n = len(failures) - bool(skipped)
        raise AssertionError(
            f"{noise.name} fails {n} conformance propert{'y' if n == 1 else 'ies'}:\n"
            + "\n".join(failures)
        )


def registered_noise_checks(dims: tuple[int, ...] = (5,)) -> list[tuple[str, Callable[[], None]]]:
    """``(id, check)`` for every registered family (built-in and plugin), each of its
    ``examples`` at each dimension, and each property: what the registry-wide tests
    parametrize over, so that a family added anywhere is checked without a test edit."""
    from harness.noise.registry import noise_class, noise_families

    out = []
    for family in noise_families():
        for dim in dims:
            for i, noise in enumerate(noise_class(family).examples(dim)):
                for prop, check in noise_checks(noise):
                    out.append((f"{family}[{i}]-d{dim}-{prop}", check))
    return out
