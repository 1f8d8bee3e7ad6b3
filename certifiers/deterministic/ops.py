"""The operations a network is read into, each with its two bound rules.

Every operation maps a batch ``(B, *in_shape)`` to ``(B, *out_shape)`` and states

- ``interval(box)``: interval bound propagation (IBP, Gowal et al. 2018). An affine map
  ``A x + b`` sends the box with centre ``c`` and radius ``r`` to the box with centre
  ``A c + b`` and radius ``|A| r``; a monotone map (ReLU, max pooling, and pooling with
  non-negative weights) sends ``[l, u]`` to ``[f(l), f(u)]``;
- ``backward(lam)``: one step of backward linear bound propagation (CROWN, Zhang et al.
  2018). Given coefficients ``lam`` of shape ``(B, K, *out_shape)`` on the operation's
  output, it returns ``lam'`` on its input and a bias ``(B, K)`` with
  ``lam . f(x) >= lam' . x + bias`` for every ``x`` in the operation's input box. For an
  affine map this is an equality, ``lam' = lam A`` and ``bias = lam . b``; a ReLU with
  input bounds ``[l, u]`` is relaxed between ``alpha x <= relu(x) <= s (x - l)`` with
  ``s = u / (u - l)`` where ``l < 0 < u`` (``alpha`` is 1 where ``u >= -l``, else 0).

A bounding pass records in a ``BoundState`` the box at the input of every operation
(the ReLU relaxations and the shapes the backward rules need), and may refine each
ReLU's input box before it is used (``BoundState.refine``, full CROWN).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from typing import ClassVar, NamedTuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from certifiers.base import UnsupportedError


class Box(NamedTuple):
    """Elementwise bounds ``lower <= x <= upper`` on a batch ``(B, *shape)``."""

    lower: Tensor
    upper: Tensor


#: ``lam`` on some operation's output -> (``lam`` on the network input, bias ``(B, K)``).
Backward = Callable[[Tensor], tuple[Tensor, Tensor | float]]


class BoundState:
    """What one bounding pass records: the input box of every operation (by index) and,
    for full CROWN, a ``refine(box, prefix)`` that tightens a ReLU's input box given the
    backward map ``prefix`` from that ReLU's input to the network input."""

    def __init__(
        self,
        dtype: torch.dtype,
        input_box: Box,
        refine: Callable[[Box, Backward], Box] | None = None,
    ) -> None:
        self.dtype = dtype
        self.input_box = input_box
        self.refine = refine
        self.inputs: dict[int, Box] = {}

    def input_of(self, op: Op) -> Box:
        try:
            return self.inputs[op.index]
        except KeyError:
            raise RuntimeError(f"no bounds recorded for {op.where}: run interval first") from None


def largest_magnitude(t: Tensor) -> Tensor:
    """Per input of a batch ``(B, ...)``, the largest ``|t|``: shape ``(B,)`` (from the
    largest and the smallest value: no ``|t|`` is made, which cost 3x as much)."""
    flat = t.flatten(1)
    return torch.maximum(flat.amax(1), -flat.amin(1))


def centre_and_radius(box: Box) -> tuple[Tensor, Tensor]:
    """``(u + l) / 2`` and ``(u - l) / 2``, taken as ``l / 2 + u / 2`` and ``-l / 2 + u /
    2`` (halving is exact, one rounding each): halving first cannot overflow where ``u +
    l`` would (bounds near the float maximum gave an infinite centre, and a margin
    bounded by +inf). Two new tensors, the second made in place (fresh ones cost page
    faults)."""
    half_lower = box.lower * 0.5
    centre = torch.add(half_lower, box.upper, alpha=0.5)
    return centre, half_lower.neg_().add_(box.upper, alpha=0.5)


def concretize(lam: Tensor, box: Box) -> Tensor:
    """``min over x in box of lam . x`` for ``lam`` of shape ``(B, K, *shape)``:
    ``lam . c - |lam| . r`` with the box's centre ``c`` and radius ``r``; ``(B, K)``."""
    centre, radius = centre_and_radius(box)
    centre, radius = centre.flatten(1).unsqueeze(-1), radius.flatten(1).unsqueeze(-1)
    flat = lam.flatten(2)
    return (flat @ centre - flat.abs() @ radius).squeeze(-1)


def _batch_of(lam: Tensor, shape: Sequence[int]) -> Tensor:
    """``lam`` of shape ``(B, K, *s)`` as ``(B * K, *shape)``."""
    return lam.reshape(lam.shape[0] * lam.shape[1], *shape)


def _linear_transpose(fn: Callable[[Tensor], Tensor], lam: Tensor, in_shape: Sequence[int]):
    """``lam A`` for the linear map ``fn`` (no bias), through its vector-Jacobian product."""
    b, k = lam.shape[:2]
    zeros = lam.new_zeros((b * k, *in_shape))
    out, vjp = torch.func.vjp(fn, zeros)
    (grad,) = vjp(lam.reshape(out.shape))
    return grad.reshape(b, k, *in_shape)


class Op:
    """One operation of a network read for bounding. ``where`` names it (the module's
    dotted path and type) for error messages; ``index`` is its place in the network."""

    kind: ClassVar[str] = "op"
    #: Whether ``backward`` exists (CROWN can pass through the operation).
    linear_bounds: ClassVar[bool] = True
    #: Whether the operation is affine (its backward rule is exact and needs no bounds).
    affine: ClassVar[bool] = True

    def __init__(self, where: str) -> None:
        self.where = where
        self.index = -1

    def walk(self) -> Iterator[Op]:
        """This operation and every operation nested in it, in order."""
        yield self

    def forward(self, x: Tensor) -> Tensor:
        raise NotImplementedError

    def forward_with_scale(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """The forward, and per input the largest magnitude it adds to those met so far
        (its output here; an affine map adds a bound on ``|A| |x|``; a ``Chain`` adds its
        input): what the float64 rounding of a bound near ``x`` scales with
        (``base.rounding_slack``)."""
        out = self.forward(x)
        return out, largest_magnitude(out)

    def magnitude_with_scale(self, m: Tensor) -> tuple[Tensor, Tensor]:
        """Given ``|x| <= m`` elementwise, a bound on ``|f(x)|``, and per input the largest
        magnitude met (``base.box_scale``): the interval of the box ``[-m, m]``, which
        for an affine map is ``|A| m + |b|`` and for a monotone one ``max(|f(-m)|,
        |f(m)|)`` (ReLU: ``m``)."""
        box = Box(-m, m)
        out = self.interval(box, BoundState(m.dtype, box), None)
        bound = torch.maximum(out.lower.abs(), out.upper.abs())
        return bound, largest_magnitude(bound)

    def interval(self, box: Box, state: BoundState, prefix: Backward | None) -> Box:
        state.inputs[self.index] = box
        return self._interval(box, state)

    def _interval(self, box: Box, state: BoundState) -> Box:
        raise NotImplementedError

    def backward(self, lam: Tensor, state: BoundState) -> tuple[Tensor, Tensor | float]:
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.where})"


class AffineOp(Op):
    """``x -> A x + b``: IBP through centre and radius, ``|A|`` acting on the radius."""

    def apply(self, x: Tensor) -> Tensor:
        """``A x + b``."""
        raise NotImplementedError

    def apply_abs(self, r: Tensor) -> Tensor:
        """``|A| r`` (no bias)."""
        raise NotImplementedError

    def transpose(self, lam: Tensor, in_shape: Sequence[int]) -> Tensor:
        """``lam A`` for ``lam`` of shape ``(B, K, *out_shape)``."""
        raise NotImplementedError

    def bias_term(self, lam: Tensor) -> Tensor | float:
        """``lam . b``, shape ``(B, K)`` (0.0 without a bias)."""
        return 0.0

    def forward(self, x: Tensor) -> Tensor:
        return self.apply(x)

    def forward_with_scale(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """As ``Op``'s, with a bound on ``|A| |x|``: the sums ``A x`` can cancel terms far
        larger than their result (hidden values of 2^40 whose difference is a logit of
        order 1). ``max_i (|A| |x|)_i <= max_i sum_j |A_ij| max_j |x_j|``, from one
        ``|A|`` applied to a single example of ones (``|A| |x|`` itself doubled the cost
        of the reading check)."""
        out, scale = super().forward_with_scale(x)
        rows = largest_magnitude(self.apply_abs(torch.ones_like(x[:1])))
        return out, torch.maximum(scale, rows * largest_magnitude(x))

    def _interval(self, box: Box, state: BoundState) -> Box:
        centre, radius = centre_and_radius(box)
        centre, radius = self.apply(centre), self.apply_abs(radius)
        return Box(centre - radius, centre + radius)

    def backward(self, lam: Tensor, state: BoundState) -> tuple[Tensor, Tensor | float]:
        in_shape = state.input_of(self).lower.shape[1:]
        return self.transpose(lam, in_shape), self.bias_term(lam)


class Linear(AffineOp):
    """``nn.Linear``: ``x W^T + b`` on the last dimension."""

    kind = "Linear"

    def __init__(self, module: nn.Linear, where: str) -> None:
        super().__init__(where)
        self.module = module

    def _weight(self, like: Tensor) -> Tensor:
        return self.module.weight.to(like.dtype)

    def _bias(self, like: Tensor) -> Tensor | None:
        b = self.module.bias
        return None if b is None else b.to(like.dtype)

    def apply(self, x: Tensor) -> Tensor:
        return F.linear(x, self._weight(x), self._bias(x))

    def apply_abs(self, r: Tensor) -> Tensor:
        return F.linear(r, self._weight(r).abs())

    def transpose(self, lam: Tensor, in_shape: Sequence[int]) -> Tensor:
        return lam @ self._weight(lam)

    def bias_term(self, lam: Tensor) -> Tensor | float:
        b = self._bias(lam)
        if b is None:
            return 0.0
        out = lam @ b
        return out if out.ndim == 2 else out.flatten(2).sum(-1)


class Conv2d(AffineOp):
    """``nn.Conv2d`` with zero padding."""

    kind = "Conv2d"

    def __init__(self, module: nn.Conv2d, where: str) -> None:
        super().__init__(where)
        self.module = module

    def _conv(self, x: Tensor, weight: Tensor, bias: Tensor | None) -> Tensor:
        m = self.module
        return F.conv2d(x, weight, bias, m.stride, m.padding, m.dilation, m.groups)

    def _bias(self, like: Tensor) -> Tensor | None:
        b = self.module.bias
        return None if b is None else b.to(like.dtype)

    def apply(self, x: Tensor) -> Tensor:
        return self._conv(x, self.module.weight.to(x.dtype), self._bias(x))

    def apply_abs(self, r: Tensor) -> Tensor:
        return self._conv(r, self.module.weight.to(r.dtype).abs(), None)

    def transpose(self, lam: Tensor, in_shape: Sequence[int]) -> Tensor:
        weight = self.module.weight.to(lam.dtype)
        return _linear_transpose(lambda t: self._conv(t, weight, None), lam, in_shape)

    def bias_term(self, lam: Tensor) -> Tensor | float:
        b = self._bias(lam)
        if b is None:
            return 0.0
        return lam.sum((-2, -1)) @ b


class ElementwiseAffine(AffineOp):
    """``x * scale + shift`` with coefficients that broadcast over one example without
    changing its shape: batch normalization in eval mode, the per-channel normalization
    layer (``channel_affine()``), and arithmetic with constants in a ``forward``.

    ``coefficients()`` returns ``(scale, shift)`` (tensors or numbers), read at every
    call so that gradients reach trained parameters. With ``per_channel`` they have shape
    ``(C,)`` and act on dimension 1 of the batch; otherwise they broadcast against the
    batch as written in the model (a leading batch dimension of size 1 is allowed)."""

    def __init__(
        self,
        kind: str,
        coefficients: Callable[[], tuple[Tensor | float, Tensor | float]],
        where: str,
        per_channel: bool = False,
    ) -> None:
        super().__init__(where)
        self.kind = kind
        self.coefficients = coefficients
        self.per_channel = per_channel

    def _shaped(self, value: Tensor | float, like: Tensor, example_ndim: int) -> Tensor:
        if not isinstance(value, Tensor):  # a Python number: float64 (torch's default is float32)
            value = torch.tensor(float(value), dtype=torch.float64)
        t = value.to(device=like.device, dtype=like.dtype)
        if self.per_channel:
            if t.ndim != 1:
                raise UnsupportedError(
                    f"{self.where}: per-channel coefficients must have shape (C,)"
                )
            return t.reshape(-1, *([1] * (example_ndim - 1)))
        if t.ndim == example_ndim + 1:
            if t.shape[0] != 1:
                raise UnsupportedError(
                    f"{self.where}: a constant with a batch dimension of {t.shape[0]} "
                    "cannot be bounded (it must be 1)"
                )
            t = t[0]
        if t.ndim > example_ndim:
            raise UnsupportedError(
                f"{self.where}: a constant of shape {tuple(t.shape)} changes the shape"
            )
        return t

    def _coeffs(self, like: Tensor, example_ndim: int) -> tuple[Tensor, Tensor]:
        scale, shift = self.coefficients()
        s = self._shaped(scale, like, example_ndim)
        b = self._shaped(shift, like, example_ndim)
        example = like.shape[-example_ndim:] if example_ndim else torch.Size()
        if torch.broadcast_shapes(example, s.shape, b.shape) != example:
            raise UnsupportedError(
                f"{self.where}: coefficients of shapes {tuple(s.shape)}, {tuple(b.shape)} "
                f"do not fit an input of shape {tuple(example)}"
            )
        return s, b

    def apply(self, x: Tensor) -> Tensor:
        s, b = self._coeffs(x, x.ndim - 1)
        return x * s + b

    def apply_abs(self, r: Tensor) -> Tensor:
        s, _ = self._coeffs(r, r.ndim - 1)
        return r * s.abs()

    def transpose(self, lam: Tensor, in_shape: Sequence[int]) -> Tensor:
        s, _ = self._coeffs(lam, lam.ndim - 2)
        return lam * s

    def bias_term(self, lam: Tensor) -> Tensor | float:
        _, b = self._coeffs(lam, lam.ndim - 2)
        return (lam * b).flatten(2).sum(-1)


def batch_norm_coefficients(module: nn.modules.batchnorm._BatchNorm):
    """Eval-mode batch normalization as ``x * scale + shift`` per channel:
    ``scale = weight / sqrt(running_var + eps)``, ``shift = bias - running_mean * scale``."""

    def coefficients() -> tuple[Tensor, Tensor]:
        var, mean = module.running_var, module.running_mean
        scale = torch.rsqrt(var.to(torch.float64) + module.eps)
        if module.weight is not None:
            scale = scale * module.weight.to(torch.float64)
        shift = -mean.to(torch.float64) * scale
        if module.bias is not None:
            shift = shift + module.bias.to(torch.float64)
        return scale, shift

    return coefficients


class _EndpointMap(Op):
    """A map applied to both ends of the box, valid where it is monotone in every
    coordinate: ``[l, u] -> [f(l), f(u)]``. Subclasses give the backward step."""

    def __init__(self, kind: str, fn: Callable[[Tensor], Tensor], where: str) -> None:
        super().__init__(where)
        self.kind = kind
        self.fn = fn

    def forward(self, x: Tensor) -> Tensor:
        return self.fn(x)

    def _interval(self, box: Box, state: BoundState) -> Box:
        return Box(self.fn(box.lower), self.fn(box.upper))


class Reshape(_EndpointMap):
    """A reshape that keeps the batch dimension (``nn.Flatten``, ``torch.flatten``,
    ``x.view(x.size(0), ...)``): the box reshapes, ``lam`` reshapes back."""

    def backward(self, lam: Tensor, state: BoundState) -> tuple[Tensor, float]:
        in_shape = state.input_of(self).lower.shape[1:]
        return lam.reshape(*lam.shape[:2], *in_shape), 0.0


class NonnegativeLinear(_EndpointMap):
    """A linear map with non-negative weights and no bias (average pooling, adaptive
    average pooling): monotone, so ``[l, u] -> [f(l), f(u)]``; ``lam A`` by its
    vector-Jacobian product."""

    def backward(self, lam: Tensor, state: BoundState) -> tuple[Tensor, float]:
        in_shape = state.input_of(self).lower.shape[1:]
        return _linear_transpose(self.fn, lam, in_shape), 0.0


class MaxPool(_EndpointMap):
    """Max pooling: monotone, so ``[l, u] -> [f(l), f(u)]``. No linear relaxation here
    (CROWN refuses it), so no backward step."""

    linear_bounds = False
    affine = False


class Identity(Op):
    """``nn.Identity``, and ``nn.Dropout`` in eval mode."""

    def __init__(self, kind: str, where: str) -> None:
        super().__init__(where)
        self.kind = kind

    def forward(self, x: Tensor) -> Tensor:
        return x

    def _interval(self, box: Box, state: BoundState) -> Box:
        return box

    def backward(self, lam: Tensor, state: BoundState) -> tuple[Tensor, float]:
        return lam, 0.0


def relu_relaxation(box: Box) -> tuple[Tensor, Tensor, Tensor]:
    """CROWN's linear bounds ``alpha x <= relu(x) <= s x + t`` on ``[l, u]``: stable
    neurons exactly (slopes 1 or 0); for ``l < 0 < u``, ``s = u / (u - l)``,
    ``t = -s l`` and ``alpha = 1`` where ``u >= -l``, else 0 (Zhang et al. 2018)."""
    lower, upper = box
    active = lower >= 0
    unstable = (lower < 0) & (upper > 0)
    # halves first: u - l overflows to +inf for finite bounds near the float maximum (a
    # slope of 0 then claimed relu(x) <= 0 on [l, u])
    half_width = torch.where(unstable, upper * 0.5 - lower * 0.5, torch.ones_like(upper))
    slope = torch.where(unstable, (upper * 0.5) / half_width, active.to(upper.dtype))
    intercept = torch.where(unstable, -slope * lower, torch.zeros_like(upper))
    alpha = torch.where(unstable, (upper >= -lower).to(upper.dtype), active.to(upper.dtype))
    return alpha, slope, intercept


class ReLU(Op):
    """``max(x, 0)``: IBP clamps both bounds; CROWN relaxes with ``relu_relaxation``."""

    kind = "ReLU"
    affine = False

    def forward(self, x: Tensor) -> Tensor:
        return torch.relu(x)

    def interval(self, box: Box, state: BoundState, prefix: Backward | None) -> Box:
        if state.refine is not None:
            box = state.refine(box, prefix)
        state.inputs[self.index] = box
        return Box(box.lower.clamp(min=0), box.upper.clamp(min=0))

    def backward(self, lam: Tensor, state: BoundState) -> tuple[Tensor, Tensor]:
        alpha, slope, intercept = relu_relaxation(state.input_of(self))
        positive = lam.clamp(min=0)
        negative = lam - positive
        bias = (negative.flatten(2) @ intercept.flatten(1).unsqueeze(-1)).squeeze(-1)
        new = positive.mul_(alpha.unsqueeze(1)).addcmul_(negative, slope.unsqueeze(1))
        return new, bias


def compose(op: Op, state: BoundState, prefix: Backward | None) -> Backward:
    """The backward map through ``op`` and then ``prefix`` (to the network input)."""

    def backward(lam: Tensor) -> tuple[Tensor, Tensor | float]:
        lam, bias = op.backward(lam, state)
        if prefix is None:
            return lam, bias
        lam, more = prefix(lam)
        return lam, bias + more

    return backward


class Chain(Op):
    """Operations applied one after the other (``nn.Sequential``, a traced forward)."""

    kind = "Sequential"

    def __init__(self, ops: Sequence[Op], where: str) -> None:
        super().__init__(where)
        self.ops = list(ops)
        self.affine = all(op.affine for op in self.ops)
        self.linear_bounds = all(op.linear_bounds for op in self.ops)

    def walk(self) -> Iterator[Op]:
        yield self
        for op in self.ops:
            yield from op.walk()

    def forward(self, x: Tensor) -> Tensor:
        for op in self.ops:
            x = op.forward(x)
        return x

    def forward_with_scale(self, x: Tensor) -> tuple[Tensor, Tensor]:
        scale = largest_magnitude(x)
        for op in self.ops:
            x, more = op.forward_with_scale(x)
            scale = torch.maximum(scale, more)
        return x, scale

    def magnitude_with_scale(self, m: Tensor) -> tuple[Tensor, Tensor]:
        """Each operation's bound from the last one's (a ReLU's output ``[0, m]`` is
        taken as ``[-m, m]`` again: the bound holds for inputs of either sign)."""
        scale = largest_magnitude(m)
        for op in self.ops:
            m, more = op.magnitude_with_scale(m)
            scale = torch.maximum(scale, more)
        return m, scale

    def interval(self, box: Box, state: BoundState, prefix: Backward | None) -> Box:
        state.inputs[self.index] = box
        for op in self.ops:
            out = op.interval(box, state, prefix)
            if state.refine is not None:
                prefix = compose(op, state, prefix)
            box = out
        return box

    def backward(self, lam: Tensor, state: BoundState) -> tuple[Tensor, Tensor | float]:
        bias: Tensor | float = 0.0
        for op in reversed(self.ops):
            lam, more = op.backward(lam, state)
            bias = bias + more
        return lam, bias


class Residual(Op):
    """A residual block ``post(body(h) + shortcut(h))`` with ``h = pre(x)`` (a module's
    ``residual_parts()``). IBP adds the two branches' boxes; CROWN sends ``lam`` down both
    branches and adds what arrives at ``h``."""

    kind = "residual block"

    def __init__(self, pre: Chain, body: Chain, shortcut: Chain, post: Chain, where: str):
        super().__init__(where)
        self.pre, self.body, self.shortcut, self.post = pre, body, shortcut, post
        parts = (pre, body, shortcut, post)
        self.affine = all(p.affine for p in parts)
        self.linear_bounds = all(p.linear_bounds for p in parts)

    def walk(self) -> Iterator[Op]:
        yield self
        for part in (self.pre, self.body, self.shortcut, self.post):
            yield from part.walk()

    def forward(self, x: Tensor) -> Tensor:
        h = self.pre.forward(x)
        return self.post.forward(self.body.forward(h) + self.shortcut.forward(h))

    def _through_parts(
        self, x: Tensor, step: Callable[[Chain, Tensor], tuple[Tensor, Tensor]]
    ) -> tuple[Tensor, Tensor]:
        """``step`` (a pass that also returns a scale) through the block's parts, the
        branches summed; the largest scale of the parts."""
        h, pre = step(self.pre, x)
        body, in_body = step(self.body, h)
        short, in_short = step(self.shortcut, h)
        out, post = step(self.post, body + short)
        return out, torch.stack([pre, in_body, in_short, post]).amax(0)

    def forward_with_scale(self, x: Tensor) -> tuple[Tensor, Tensor]:
        return self._through_parts(x, Chain.forward_with_scale)

    def magnitude_with_scale(self, m: Tensor) -> tuple[Tensor, Tensor]:
        return self._through_parts(m, Chain.magnitude_with_scale)

    def _sum_backward(self, lam: Tensor, state: BoundState) -> tuple[Tensor, Tensor | float]:
        lam_body, bias_body = self.body.backward(lam, state)
        lam_short, bias_short = self.shortcut.backward(lam, state)
        lam_in, bias_pre = self.pre.backward(lam_body + lam_short, state)
        return lam_in, bias_body + bias_short + bias_pre

    def interval(self, box: Box, state: BoundState, prefix: Backward | None) -> Box:
        state.inputs[self.index] = box
        h = self.pre.interval(box, state, prefix)
        inner = compose(self.pre, state, prefix) if state.refine is not None else None
        body = self.body.interval(h, state, inner)
        short = self.shortcut.interval(h, state, inner)
        total = Box(body.lower + short.lower, body.upper + short.upper)
        summed = None
        if state.refine is not None:

            def summed(lam: Tensor) -> tuple[Tensor, Tensor | float]:
                lam, bias = self._sum_backward(lam, state)
                if prefix is None:
                    return lam, bias
                lam, more = prefix(lam)
                return lam, bias + more

        return self.post.interval(total, state, summed)

    def backward(self, lam: Tensor, state: BoundState) -> tuple[Tensor, Tensor | float]:
        lam, bias_post = self.post.backward(lam, state)
        lam, bias = self._sum_backward(lam, state)
        return lam, bias_post + bias


def numel(shape: Sequence[int]) -> int:
    return math.prod(int(s) for s in shape)
