"""Deterministic certifiers: a model, inputs ``x`` with labels ``y`` and an l-inf radius
``eps`` -> whether every point of the box certainly keeps the label.

The box is ``[clip(x - eps), clip(x + eps)]`` clipped to the pixel range [0, 1] (inputs
live in [0, 1], radii are measured there, before any normalization layer). A certifier
bounds from below every margin ``z_y - z_j`` of the logits ``z`` over the box; ``y`` is
certified when every margin with ``j != y`` is bounded by a positive number. There is no
sampling, no alpha and no failure probability: the certificate is a proof about the
network as read (``certifiers.deterministic.network``) in exact arithmetic, computed in
float64 (every coefficient too). float64 does not round outward, so a margin counts only
above ``ROUNDING_SLACK (1 + S)`` (``rounding_slack``), ``S`` the largest magnitude the
bound's computation can meet anywhere in the pixel cube (``box_scale``): the network's
absolute-value pass from ``|x| <= 1``, ``m -> |A| m + |b|`` through an affine map and
``m -> m`` through a ReLU, at every operation. A product ``fl(A B)`` is within
``n 2^-53 |A| |B|`` of ``A B`` (n terms a sum), and every quantity IBP and CROWN compute
(centres, radii, the backward coefficients ``C A_L D ... A_1`` with relaxation slopes
``|D| <= 1`` and their intercepts) is such a product met by the box's values ``|x| <=
1``: its rounding is below ``n L 2^-53 S`` for L operations of at most n terms, under
``ROUNDING_SLACK S`` while ``n L`` stays below 4 million (a first-order argument, not
outward rounding). The scale at ``x`` alone (``S(x)``, the forward's magnitudes) missed
coefficients that cancel: weights of 7e8 at a black image gave a margin bound of 1
where the exact margin at a corner of the box is -19. The certificate is about the
network in exact arithmetic; the model itself must predict ``y`` at the input, and a
float32 model's own forward can differ from exact arithmetic by up to about
``n L 2^-24 S`` anywhere in the box (``S`` of 1e8 met margins of 0.5 rounded to -7).

The largest certified eps (``certified_radius``) is found by bisection on [0, 1]; it
only ever reports an eps at which the box was certified, and a certified box contains
every smaller one, so the radius is a guarantee even where a bound is not monotone in
eps. At eps = 1 the clipped box is the whole pixel cube: radii are capped there.

Deterministic certifiers have no count-based table entries (``certificates`` is empty),
so the count certification of a store skips them; ``deterministic = True`` marks them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Self

import torch
from numpy.typing import ArrayLike
from torch import Tensor, nn

from certifiers.base import Certifier, UnsupportedError
from certifiers.deterministic.network import read_network
from certifiers.deterministic.ops import Box, Chain

#: At eps = 1 the clipped box is all of [0, 1]^d; no larger radius means more.
MAX_EPS = 1.0
DTYPES = {"float64": torch.float64, "float32": torch.float32}
#: Random points of the pixel cube where the reading is checked besides the inputs.
READING_PROBES = 8
#: The network as read must reproduce the model's logits to this fraction of their
#: largest magnitude (at least 1): float32 models round at 1e-7, a misreading shows more.
READING_TOLERANCE = 1e-4
#: A margin's float64 lower bound certifies only above this fraction of ``1 + S(x)``, the
#: largest magnitude the forward at x meets (``rounding_slack``): float64 rounds to
#: nearest, not outward, and a bound can exceed the exact one by a few units of 1e-16 of
#: that scale (a tie bounded at +1e-16 is no proof).
ROUNDING_SLACK = 1e-9


def rounding_slack(scale: Tensor) -> Tensor:
    """Per input, the least margin bound that certifies: ``ROUNDING_SLACK (1 + S)`` for
    a scale ``S`` that the rounding of a bound's computation scales with (``box_scale``;
    module docstring). An infinite or NaN scale (magnitudes that overflow) certifies
    nothing."""
    return ROUNDING_SLACK * (1.0 + scale)


def box_scale(
    network: Chain, shape: Sequence[int], dtype: torch.dtype, device: torch.device
) -> Tensor:
    """The largest magnitude a bound's computation can meet for inputs anywhere in the
    pixel cube: the network's absolute-value pass (``Op.magnitude_with_scale``) from
    ``|x| <= 1``, a bound on every ``|A| |h|`` and every value of every box, in every
    layer. A scalar tensor; ``inf`` where it overflows."""
    ones = torch.ones((1, *shape), dtype=dtype, device=device)
    with torch.no_grad():
        return network.magnitude_with_scale(ones)[1][0]


def _certifies(worst: Tensor, slack: Tensor) -> Tensor:
    """Whether the smallest margin bound proves the label: finite (a bound that overflowed
    to +inf proves nothing) and above the rounding slack."""
    return torch.isfinite(worst) & (worst > slack)


@dataclass(frozen=True)
class MarginCertificate:
    """Per input of a batch: ``certified`` (bool), ``margins`` ``(B, C)`` (lower bounds of
    ``z_y - z_j`` over the box; 0 at ``j = y``), ``worst_margin`` (the smallest bound over
    ``j != y``; certified needs it above the rounding slack, ``rounding_slack``) and the
    model's ``prediction`` at x."""

    certified: Tensor
    margins: Tensor
    worst_margin: Tensor
    prediction: Tensor


def _dtype_shape(t: Tensor) -> str:
    """``float32 (4, 10)``: a tensor's dtype and shape, for messages."""
    return f"{str(t.dtype).removeprefix('torch.')} {tuple(t.shape)}"


def margin_spec(y: Tensor, classes: int, dtype: torch.dtype) -> Tensor:
    """``C`` of shape ``(B, classes, classes)`` with row ``j`` equal to ``e_y - e_j``, so
    that ``C z`` is the vector of margins ``z_y - z_j``."""
    eye = torch.eye(classes, dtype=dtype, device=y.device)
    return eye[y].unsqueeze(1) - eye.unsqueeze(0)


def input_box(x: Tensor, eps: Tensor) -> Box:
    """The l-inf box of radius ``eps`` (one per input) around ``x``, clipped to [0, 1]."""
    e = eps.reshape(-1, *([1] * (x.ndim - 1))).to(x.dtype)
    return Box((x - e).clamp(0.0, 1.0), (x + e).clamp(0.0, 1.0))


def _refuse_forward_hooks(model: nn.Module) -> None:
    """Forward hooks change what a module returns without appearing in its structure, so
    the network as read would miss them (a change below the reading check's tolerance
    would pass it): refused, the global ones too."""
    from torch.nn.modules import module as torch_module

    if torch_module._global_forward_hooks or torch_module._global_forward_pre_hooks:
        raise UnsupportedError(
            "global forward hooks are registered (torch.nn.modules.module."
            "register_module_forward_hook): the network as read would miss them"
        )
    for name, module in model.named_modules():
        if module._forward_hooks or module._forward_pre_hooks:
            raise UnsupportedError(
                f"module {name or '(the model)'!r} ({type(module).__name__}) has forward "
                "hooks, which change its output unseen by the reading: remove them to certify"
            )


def _dtype_of(model: nn.Module, default: torch.dtype) -> torch.dtype:
    for t in model.parameters():
        if t.is_floating_point():
            return t.dtype
    return default


def _device_of(model: nn.Module) -> torch.device:
    for t in model.parameters():
        return t.device
    for t in model.buffers():
        return t.device
    return torch.device("cpu")


class DeterministicCertifier(Certifier):
    """Base class of the certifiers that bound a model over an input box.

    Subclasses implement ``bound_margins(network, box, spec)``: lower bounds ``(B, K)``
    of ``spec @ z`` over the box, ``spec`` of shape ``(B, K, classes)``. Options:
    ``dtype`` of the bound computation (``"float64"``; ``"float32"`` only through
    ``for_training``), ``batch_size`` (inputs bounded at once) and ``bisection_steps``
    for the radius (resolution ``2^-steps``).

    float32 bounds are not rounded outward: a lower bound can exceed the true margin by
    float32 rounding (measured up to 8e-8 at eps = 0), enough to certify a box one of
    whose corners is misclassified. They serve verified training (``margin_bounds``,
    differentiable), and a certifier made by ``for_training`` refuses ``certify`` and
    ``certified_radius``."""

    deterministic: ClassVar[bool] = True
    certificates: ClassVar[dict] = {}
    norms: ClassVar[tuple[str, ...]] = ("linf",)
    #: Bumped when a change of the method can change a stored certificate; a store whose
    #: certificates were made by another version certifies again (``harness.
    #: deterministic``). 2: the rounding slack scales with the forward's magnitudes, and
    #: a bound that overflowed to +inf certifies nothing. 3: the slack scales with the
    #: magnitudes anywhere in the pixel cube (``box_scale``), and CROWN's ReLU slope no
    #: longer overflows.
    method_version: ClassVar[int] = 3

    def __init__(
        self, dtype: str = "float64", batch_size: int = 256, bisection_steps: int = 16
    ) -> None:
        if dtype not in DTYPES:
            raise ValueError(f"dtype must be one of {sorted(DTYPES)}, got {dtype!r}")
        if dtype != "float64":
            raise ValueError(
                f"dtype {dtype!r} bounds are not rounded outward and cannot certify: use "
                "float64 (lower precision serves verified training only: for_training())"
            )
        self.training = False
        for key, value in (("batch_size", batch_size), ("bisection_steps", bisection_steps)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{key} must be a positive integer, got {value!r}")
        self.dtype = dtype
        self.batch_size = batch_size
        self.bisection_steps = bisection_steps

    def options(self) -> dict[str, Any]:
        return {
            "dtype": self.dtype,
            "batch_size": self.batch_size,
            "bisection_steps": self.bisection_steps,
        }

    @classmethod
    def for_training(cls, dtype: str = "float32", **options: Any) -> Self:
        """A certifier whose ``margin_bounds`` serve verified training, computed in
        ``dtype`` (float32 by default, differentiable); it refuses ``certify`` and
        ``certified_radius``. Not reachable from a config, which only certifies."""
        if dtype not in DTYPES:
            raise ValueError(f"dtype must be one of {sorted(DTYPES)}, got {dtype!r}")
        certifier = cls(**options)
        certifier.dtype = dtype
        certifier.training = True
        return certifier

    # --- what a subclass states ------------------------------------------------------

    def check_network(self, network: Chain) -> None:
        """Refuse, with ``UnsupportedLayerError``, a network this method cannot bound."""

    def bound_margins(self, network: Chain, box: Box, spec: Tensor) -> Tensor:
        """Lower bounds ``(B, K)`` of ``spec @ network(x)`` over ``x`` in ``box``."""
        raise NotImplementedError

    # --- the public methods ----------------------------------------------------------

    def read(self, model: nn.Module) -> Chain:
        """The network of ``model`` as this certifier bounds it (clear error otherwise),
        read afresh at every call. A traced forward bakes in what it reads besides
        parameters and buffers (list or tensor attributes, globals), so no cache keyed
        on the model can tell when that changed; reading costs about 0.03 ms for an MLP
        and 1 ms for a traced CNN, far below a bound. Weights are read at every bound."""
        if not isinstance(model, nn.Module):
            raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
        _refuse_forward_hooks(model)
        network = read_network(model)
        self.check_network(network)
        return network

    def margin_bounds(
        self, model: nn.Module, x: Tensor, y: ArrayLike, eps: float | ArrayLike, norm="linf"
    ) -> Tensor:
        """Lower bounds ``(B, C)`` of the margins ``z_y - z_j`` over the clipped l-inf box
        of radius ``eps`` around each input (0 at ``j = y``). Differentiable in the
        model's parameters (for verified training: Gowal et al.'s worst-case logits are
        ``-margin_bounds``)."""
        network = self.read(model)
        x, y, eps = self._inputs(model, x, y, eps, norm)
        classes = self._classes(network, x[:1])
        return self._margins(network, x, y, eps, classes)

    def certify(
        self, model: nn.Module, x: Tensor, y: ArrayLike, eps: float | ArrayLike, norm="linf"
    ) -> MarginCertificate:
        """Whether each input's label ``y`` is certified in its box of radius ``eps``:
        every margin bounded above the rounding slack over the box, and the model itself
        predicting ``y`` at the input (the bounds are those of the network in exact
        arithmetic; a float32 model's own forward can differ from it: module
        docstring)."""
        self._check_certifying()
        network = self.read(model)
        x, y, eps = self._inputs(model, x, y, eps, norm)
        parts = []
        with torch.no_grad():
            for s in range(0, len(y), self.batch_size):
                sl = slice(s, s + self.batch_size)
                prediction, classes, slack = self._check_reading(network, model, x[sl])
                margins = self._margins(network, x[sl], y[sl], eps[sl], classes)
                worst = self._worst(margins, y[sl])
                certified = _certifies(worst, slack) & (prediction == y[sl])
                parts.append((certified, margins, worst, prediction))
        return MarginCertificate(*(torch.cat(p) for p in zip(*parts, strict=True)))

    def certified_radius(
        self, model: nn.Module, x: Tensor, y: ArrayLike, norm: str = "linf"
    ) -> Tensor:
        """The largest eps in [0, 1] (to ``2^-bisection_steps``) at which each input is
        certified, found by bisection; 0 where even eps = 0 is not, or where the model
        does not predict ``y`` at the input (misclassified)."""
        self._check_certifying()
        network = self.read(model)
        x, y, _ = self._inputs(model, x, y, 0.0, norm)
        radii = []
        with torch.no_grad():
            for s in range(0, len(y), self.batch_size):
                sl = slice(s, s + self.batch_size)
                prediction, classes, slack = self._check_reading(network, model, x[sl])
                radius = self._bisect(network, x[sl], y[sl], classes, slack)
                radii.append(torch.where(prediction == y[sl], radius, 0.0))
        return torch.cat(radii)

    def least_certified_margin(self, model: nn.Module, input_shape: Sequence[int]) -> float:
        """The rounding slack of ``model`` for inputs of ``input_shape`` (``box_scale``,
        ``rounding_slack``): no margin bound below it certifies, at any input. Where it is
        large (a deep network, whose absolute-value pass grows with every layer) few or
        no inputs certify."""
        network = self.read(model)
        scale = box_scale(network, input_shape, DTYPES["float64"], _device_of(model))
        return float(rounding_slack(scale))

    def radius(self, noise: Any, p_lower: ArrayLike, norm: str = "l2") -> float:
        raise UnsupportedError(
            f"{self.name!r} is deterministic: it certifies a model over an input box "
            "(certify, certified_radius), not Monte Carlo counts"
        )

    # --- internals -------------------------------------------------------------------

    def _check_certifying(self) -> None:
        if self.training:
            raise UnsupportedError(
                f"this {self.name!r} bounds in {self.dtype} for verified training "
                "(for_training()), which cannot certify: make one with certifiers.get"
            )

    def _bisect(self, network: Chain, x: Tensor, y: Tensor, classes: int, slack: Tensor) -> Tensor:
        def certified(eps: Tensor) -> Tensor:
            return _certifies(self._worst(self._margins(network, x, y, eps, classes), y), slack)

        n = len(y)
        zero = torch.zeros(n, dtype=torch.float64, device=x.device)
        ok = certified(zero)
        lo = torch.where(certified(zero + MAX_EPS) & ok, MAX_EPS, 0.0).to(torch.float64)
        hi = torch.full_like(lo, MAX_EPS)
        active = ok & (lo < MAX_EPS)
        for _ in range(self.bisection_steps):
            if not active.any():
                break
            mid = (lo + hi) / 2
            good = certified(mid)
            lo = torch.where(active & good, mid, lo)
            hi = torch.where(active & ~good, mid, hi)
        return lo

    def _worst(self, margins: Tensor, y: Tensor) -> Tensor:
        return margins.scatter(1, y.unsqueeze(1), math.inf).amin(1)

    def _margins(self, network: Chain, x: Tensor, y: Tensor, eps: Tensor, classes: int):
        if (y >= classes).any():
            raise ValueError(f"labels must be below the model's {classes} classes")
        dtype = DTYPES[self.dtype]
        box = input_box(x.to(dtype), eps)
        spec = margin_spec(y, classes, dtype)
        margins = self.bound_margins(network, box, spec)
        # bounds for training may come in autocast's dtype; bounds that certify, in the
        # certifier's own (a narrower one rounds to nearest, up as often as down)
        if (
            not isinstance(margins, Tensor)
            or not margins.is_floating_point()
            or (margins.dtype != dtype and not self.training)
            or margins.shape != spec.shape[:2]
        ):
            got = (
                f"a {_dtype_shape(margins)} tensor"
                if isinstance(margins, Tensor)
                else type(margins).__name__
            )
            # a bound left out (a (B, K - 1) table) would leave a class unchecked: a
            # certificate against fewer classes than the model has is too large
            raise ValueError(
                f"deterministic certifier {self.name!r} ({type(self).__module__}): "
                f"bound_margins returned {got} for a spec of shape {tuple(spec.shape)}: one "
                f"lower bound per input and row of the spec, a "
                f"{str(dtype).removeprefix('torch.')} tensor of shape {tuple(spec.shape[:2])}"
            )
        return margins

    def _classes(self, network: Chain, x: Tensor) -> int:
        with torch.no_grad():
            out = network.forward(x.to(DTYPES[self.dtype]))
        if out.ndim != 2 or out.shape[1] < 2:
            raise ValueError(
                f"the model must output logits (batch, classes), got {tuple(out.shape)}"
            )
        return int(out.shape[1])

    def _check_reading(
        self, network: Chain, model: nn.Module, x: Tensor
    ) -> tuple[Tensor, int, Tensor]:
        """The model's predictions, its number of classes and each input's rounding slack
        (``rounding_slack`` of ``box_scale``, or of the forward's magnitudes at the input
        where larger), after checking that the model's logits are finite and that
        the network as read reproduces them to ``READING_TOLERANCE`` (a forward the
        reading missed would make the bounds void), at the inputs and at
        ``READING_PROBES`` fixed random points of the pixel cube: a missed ReLU, say,
        changes nothing at an input where its pre-activations are positive, but shows
        where some are negative."""
        probes = torch.rand(
            (READING_PROBES, *x.shape[1:]), generator=torch.Generator().manual_seed(0)
        )
        points = torch.cat([x, probes.to(device=x.device, dtype=x.dtype)])
        read, magnitude = network.forward_with_scale(points.to(DTYPES[self.dtype]))
        logits = model(points.to(_dtype_of(model, x.dtype)))
        if read.shape != logits.shape or read.ndim != 2 or read.shape[1] < 2:
            raise ValueError(
                f"the network as read outputs {tuple(read.shape[1:])} per input, the model "
                f"{tuple(logits.shape[1:])}; the model must output logits (batch, classes)"
            )
        if not torch.isfinite(logits).all():
            raise UnsupportedError(
                "the model's logits are not finite (NaN or infinite) at an input or at a "
                "point of the pixel cube: a model that computes them cannot be certified"
            )
        ref = logits.to(read.dtype)
        scale = max(1.0, float(ref.abs().max()))
        gap = float((read - ref).abs().max())
        if not gap <= READING_TOLERANCE * scale:  # NaN too
            raise UnsupportedError(
                f"the network as read differs from the model's outputs by {gap:.3g}: its "
                "forward does something the reading missed, so it cannot be certified"
            )
        cube = box_scale(network, x.shape[1:], read.dtype, read.device)
        slack = rounding_slack(torch.maximum(magnitude[: len(x)], cube))
        return logits[: len(x)].argmax(1), int(read.shape[1]), slack

    def _inputs(
        self, model: nn.Module, x: Tensor, y: ArrayLike, eps: float | ArrayLike, norm: str
    ) -> tuple[Tensor, Tensor, Tensor]:
        if norm not in self.norms:
            raise UnsupportedError(f"{self.name!r} certifies against {self.norms}, not {norm!r}")
        if not isinstance(model, nn.Module):
            raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
        if not isinstance(x, Tensor) or not x.is_floating_point() or x.ndim < 2:
            raise TypeError("x must be a floating tensor holding a batch (B, ...) of inputs")
        device = _device_of(model)
        x = x.to(device)
        if not torch.isfinite(x).all() or float(x.min()) < 0.0 or float(x.max()) > 1.0:
            raise ValueError("inputs must be finite and lie in the pixel range [0, 1]")
        y_t = torch.as_tensor(y, device=device)
        if y_t.is_floating_point() or y_t.shape != (len(x),):
            raise ValueError(f"y must hold one integer label per input ({len(x)}), got {y!r}")
        y_t = y_t.long()
        if (y_t < 0).any():
            raise ValueError("labels must be non-negative")
        e = torch.as_tensor(eps, dtype=torch.float64, device=device)
        if e.ndim == 0:
            e = e.expand(len(x))
        if e.shape != (len(x),) or not torch.isfinite(e).all() or (e < 0).any():
            raise ValueError(f"eps must be a finite number >= 0, or one per input; got {eps!r}")
        return x, y_t, e
