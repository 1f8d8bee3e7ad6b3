"""Reading a torch model into the operations of ``certifiers.deterministic.ops``.

The reading walks the module tree:

- a module with ``residual_parts() -> (pre, body, shortcut, post)`` computes
  ``post(body(h) + shortcut(h))`` with ``h = pre(x)`` (each part an ``nn.Module``,
  ``nn.Identity()`` where absent): a residual block, its parts read in turn;
- a module with ``channel_affine() -> (weight, bias)`` (tensors of shape ``(C,)``)
  computes ``x * weight[c] + bias[c]`` on channel ``c``: the per-channel normalization
  layer that pretrained models put first (``weight = 1/std``, ``bias = -mean/std``);
- ``nn.Sequential``: its entries in order (a module it holds twice is read at each use);
- the supported layers: ``Linear``, ``Conv2d`` (zero padding), ``ReLU``,
  ``BatchNorm1d/2d`` in eval mode, ``Flatten``, ``AvgPool2d``, ``AdaptiveAvgPool2d``,
  ``MaxPool2d``, ``Identity``, ``Dropout`` in eval mode (and their subclasses that keep
  torch's ``forward``; one that overrides it is traced like the user's own module);
- any other module of the user's: its ``forward`` is traced (``torch.fx``) and read when
  it is a chain of the above, ReLU, flatten and reshape calls, pooling functions and
  arithmetic with constants (e.g. ``self.net(x - 0.5)``).

Anything else raises ``UnsupportedLayerError`` naming the layer, its dotted path in the
model and its position among the layers read. The bounds hold for the network as read;
the certifiers check that the reading reproduces the model's outputs (at the inputs and at
random points of the pixel cube) before they bound.
"""

from __future__ import annotations

import builtins
import operator
from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, fx, nn

from certifiers.base import UnsupportedError
from certifiers.deterministic.ops import (
    Chain,
    Conv2d,
    ElementwiseAffine,
    Identity,
    Linear,
    MaxPool,
    NonnegativeLinear,
    Op,
    ReLU,
    Reshape,
    Residual,
    batch_norm_coefficients,
)

RESIDUAL_PROTOCOL = "residual_parts"
CHANNEL_AFFINE_PROTOCOL = "channel_affine"

SUPPORTED = (
    "Linear, Conv2d, ReLU, BatchNorm1d/2d (eval mode), Flatten, AvgPool2d, "
    "AdaptiveAvgPool2d, MaxPool2d, Identity, Dropout (eval mode), nn.Sequential, modules "
    "with channel_affine() or residual_parts(), and forward methods that chain these with "
    "arithmetic by constants"
)


class UnsupportedLayerError(UnsupportedError):
    """A layer the deterministic certifiers cannot bound; the message names the layer,
    its path in the model and its position."""


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _has(module: nn.Module, method: str) -> bool:
    return callable(getattr(module, method, None))


def _runs_torch_forward(module: nn.Module) -> bool:
    """Whether ``module`` runs the ``forward`` of the torch class it derives from: a
    subclass that overrides it computes something else, so it is traced as the user's
    module, never read as its base layer."""
    base = next((c for c in type(module).__mro__ if c.__module__.startswith("torch.")), None)
    return base is not None and type(module).forward is base.forward


class _Tracer(fx.Tracer):
    """Traces a user's forward, keeping the modules read directly as single calls."""

    def is_leaf_module(self, m: nn.Module, module_qualified_name: str) -> bool:
        if isinstance(m, nn.Sequential) or _has(m, RESIDUAL_PROTOCOL):
            return True
        return _has(m, CHANNEL_AFFINE_PROTOCOL) or super().is_leaf_module(m, module_qualified_name)


def _flatten(start: int, end: int) -> Callable[[Tensor], Tensor]:
    def fn(x: Tensor) -> Tensor:
        if start % x.ndim == 0:
            raise UnsupportedLayerError("a flatten over the batch dimension cannot be bounded")
        return torch.flatten(x, start, end)

    return fn


_ADD = {operator.add, operator.iadd, torch.add, "add", "add_", "__add__", "__radd__"}
_SUB = {operator.sub, operator.isub, torch.sub, "sub", "sub_", "__sub__"}
_RSUB = {"__rsub__", torch.rsub}
_MUL = {operator.mul, operator.imul, torch.mul, "mul", "mul_", "__mul__", "__rmul__"}
_DIV = {operator.truediv, operator.itruediv, torch.div, torch.true_divide, "div", "div_"}
_NEG = {operator.neg, torch.neg, "neg", "__neg__"}
_RELU = {F.relu, torch.relu, torch.relu_, "relu", "relu_"}
_FLATTEN = {torch.flatten, "flatten"}
_RESHAPE = {torch.reshape, "view", "reshape"}
_AVG_POOLS = {F.avg_pool2d, F.adaptive_avg_pool2d}
_MAX_POOLS = {F.max_pool2d, torch.max_pool2d}
_NO_OPS = {"contiguous"}


def _is_in(target: Any, group: set) -> bool:
    try:
        return target in group
    except TypeError:
        return False


class _Reader:
    """Reads one model; counts the layers read so that an error can give a position."""

    def __init__(self) -> None:
        self.count = 0

    def fail(self, path: str, kind: str, why: str) -> UnsupportedLayerError:
        place = f"'{path}'" if path else "the model itself"
        return UnsupportedLayerError(
            f"cannot bound layer {max(self.count, 1)} of the network, {place} ({kind}): {why}; "
            f"the deterministic certifiers support {SUPPORTED}"
        )

    def read(self, module: nn.Module, path: str) -> Op:
        kind = type(module).__name__
        where = f"'{path}' ({kind})" if path else f"the model ({kind})"
        if isinstance(module, torch.jit.ScriptModule):
            raise self.fail(path, kind, "a TorchScript module cannot be read; give the nn.Module")
        if _has(module, RESIDUAL_PROTOCOL):
            return self._residual(module, path, where)
        if _has(module, CHANNEL_AFFINE_PROTOCOL):
            self.count += 1
            return ElementwiseAffine("channel affine", module.channel_affine, where, True)
        if isinstance(module, nn.Sequential) and _runs_torch_forward(module):
            # every entry, in order: named_children() yields a module used twice only once,
            # while Sequential.forward runs each use
            ops = [self.read(m, _join(path, name)) for name, m in module._modules.items()]
            return Chain(ops, where)
        self.count += 1
        layer = self._layer(module, path, kind, where) if _runs_torch_forward(module) else None
        if layer is not None:
            return layer
        if type(module).__module__.startswith("torch."):
            raise self.fail(path, kind, "this layer is not supported")
        self.count -= 1  # a container of the user's: its layers are counted
        return self._forward(module, path, where)

    def _layer(self, module: nn.Module, path: str, kind: str, where: str) -> Op | None:
        """The operation of a supported torch layer, or None."""
        if isinstance(module, nn.Linear):
            return Linear(module, where)
        if isinstance(module, nn.Conv2d):
            if module.padding_mode != "zeros":
                raise self.fail(path, kind, f"padding_mode {module.padding_mode!r} (only zeros)")
            return Conv2d(module, where)
        if isinstance(module, nn.ReLU):
            return ReLU(where)
        if isinstance(module, nn.BatchNorm1d | nn.BatchNorm2d):
            if module.training or module.running_mean is None:
                raise self.fail(
                    path, kind, "batch normalization is bounded in eval mode with running "
                    "statistics only; call model.eval()"
                )  # fmt: skip
            return ElementwiseAffine(kind, batch_norm_coefficients(module), where, True)
        if isinstance(module, nn.Flatten):
            if module.start_dim == 0:
                raise self.fail(path, kind, "a flatten over the batch dimension")
            return Reshape(kind, _flatten(module.start_dim, module.end_dim), where)
        if isinstance(module, nn.AvgPool2d | nn.AdaptiveAvgPool2d):
            if not _positive_divisor(getattr(module, "divisor_override", None)):
                raise self.fail(path, kind, _NEGATIVE_POOL)
            return NonnegativeLinear(kind, module, where)
        if isinstance(module, nn.MaxPool2d):
            if module.return_indices:
                raise self.fail(path, kind, "max pooling that returns indices")
            return MaxPool(kind, module, where)
        if isinstance(module, nn.Identity):
            return Identity(kind, where)
        if isinstance(module, nn.modules.dropout._DropoutNd):
            if module.training:
                raise self.fail(path, kind, "dropout in training mode; call model.eval()")
            return Identity(kind, where)
        return None

    def _residual(self, module: nn.Module, path: str, where: str) -> Residual:
        parts = module.residual_parts()
        if not (isinstance(parts, tuple | list) and len(parts) == 4):
            raise self.fail(path, type(module).__name__, "residual_parts() must return 4 modules")
        names = {id(m): n for n, m in module.named_children()}
        chains = []
        for label, part in zip(("pre", "body", "shortcut", "post"), parts, strict=True):
            if not isinstance(part, nn.Module):
                raise self.fail(
                    path, type(module).__name__, f"residual_parts() gave a {label} that is not "
                    "an nn.Module"
                )  # fmt: skip
            op = self.read(part, _join(path, names.get(id(part), f"<{label}>")))
            chains.append(op if isinstance(op, Chain) else Chain([op], op.where))
        return Residual(*chains, where)

    # --- a traced forward ------------------------------------------------------------

    def _forward(self, module: nn.Module, path: str, where: str) -> Chain:
        kind = type(module).__name__
        try:
            graph = _Tracer().trace(module)
        except Exception as err:  # noqa: BLE001  (any failure to trace is reported)
            raise self.fail(path, kind, f"its forward cannot be traced ({err})") from None
        head: fx.Node | None = None
        chain: list[fx.Node] = []
        constants: dict[fx.Node, Tensor] = {}
        sizes: set[fx.Node] = set()
        ops: list[Op] = []
        for node in graph.nodes:
            if node.op == "placeholder":
                if head is not None:
                    raise self.fail(path, kind, "a forward with more than one input")
                head = node
            elif node.op == "get_attr":
                constants[node] = _fetch(module, str(node.target))
            elif node.op == "call_module":
                if node.args != (head,) or node.kwargs:
                    raise self.fail(
                        _join(path, str(node.target)), kind, "a submodule called on something "
                        "other than the previous layer's output (a branch?)"
                    )  # fmt: skip
                sub = module.get_submodule(str(node.target))
                ops.append(self.read(sub, _join(path, str(node.target))))
                head = node
            elif node.op in ("call_function", "call_method"):
                if _is_batch_size(node, set(chain), sizes):
                    sizes.add(node)
                    continue
                self.count += 1
                ops.append(self._call(node, head, constants, sizes, path, kind))
                head = node
            elif node.op == "output":
                if node.args[0] is not head:
                    raise self.fail(path, kind, "the forward does not return its last layer")
            if node.op != "get_attr" and node not in sizes:
                chain.append(node)
        for node in chain:
            users = [u for u in node.users if u not in sizes]
            if len(users) > 1:
                raise self.fail(
                    _join(path, node.name), kind, "the forward branches here (a residual "
                    "connection written inline?); give the block residual_parts()"
                )  # fmt: skip
        return Chain(ops, where)

    def _call(
        self,
        node: fx.Node,
        head: fx.Node | None,
        constants: dict[fx.Node, Tensor],
        sizes: set[fx.Node],
        path: str,
        kind: str,
    ) -> Op:
        target = node.target
        name = target if isinstance(target, str) else getattr(target, "__name__", str(target))
        here = _join(path, node.name)
        where = f"'{here}' ({name} in the forward of {kind})"
        args, kwargs = node.args, dict(node.kwargs)
        if not args or head not in args:
            raise self.fail(here, name, "a call that does not take the previous layer's output")
        others = [a for a in args if a is not head]

        def const(value: Any) -> Tensor | float:
            if isinstance(value, fx.Node):
                if value not in constants:
                    raise self.fail(here, name, "an operand that is neither the previous "
                                    "layer's output nor a constant")  # fmt: skip
                return constants[value]
            if isinstance(value, int | float) and not isinstance(value, bool):
                return float(value)
            raise self.fail(here, name, f"an operand {value!r} that is not a number or tensor")

        if _is_in(target, _ADD | _SUB | _RSUB | _MUL | _DIV):
            if kwargs or len(args) != 2 or len(others) != 1:
                raise self.fail(here, name, "arithmetic other than with one constant")
            c = const(others[0])
            first = args[0] is head
            if _is_in(target, _ADD):
                return ElementwiseAffine(name, lambda: (1.0, c), where)
            if _is_in(target, _SUB) and first or _is_in(target, _RSUB) and not first:
                return ElementwiseAffine(name, lambda: (1.0, -c), where)
            if _is_in(target, _SUB) or _is_in(target, _RSUB):
                return ElementwiseAffine(name, lambda: (-1.0, c), where)
            if _is_in(target, _MUL):
                return ElementwiseAffine(name, lambda: (c, 0.0), where)
            if not first:
                raise self.fail(here, name, "division by the layer's output is not affine")
            if (torch.as_tensor(c) == 0).any():
                raise self.fail(here, name, "division by zero")
            # the reciprocal in float64: that of a float32 constant, rounded, is another map
            return ElementwiseAffine(
                name, lambda: (1.0 / (c.double() if isinstance(c, Tensor) else c), 0.0), where
            )
        if _is_in(target, _NEG):
            return ElementwiseAffine(name, lambda: (-1.0, 0.0), where)
        if _is_in(target, _RELU):
            if any(not isinstance(a, bool) for a in others) or set(kwargs) - {"inplace"}:
                raise self.fail(here, name, "relu with extra arguments")
            return ReLU(where)
        if _is_in(target, _NO_OPS):
            return Identity(name, where)
        if _is_in(target, _FLATTEN):
            start = args[1] if len(args) > 1 else kwargs.get("start_dim", 0)
            end = args[2] if len(args) > 2 else kwargs.get("end_dim", -1)
            if not (isinstance(start, int) and isinstance(end, int)):
                raise self.fail(here, name, "flatten with computed dimensions")
            if start == 0:
                raise self.fail(here, name, "a flatten over the batch dimension")
            return Reshape(name, _flatten(start, end), where)
        if _is_in(target, _RESHAPE):
            shape = args[1:]
            if len(shape) == 1 and isinstance(shape[0], tuple | list):
                shape = shape[0]
            if not shape or shape[0] not in sizes or kwargs:
                raise self.fail(here, name, "a reshape must keep the batch dimension, as in "
                                "x.view(x.size(0), -1)")  # fmt: skip
            rest = tuple(shape[1:])
            if not all(isinstance(s, int) for s in rest):
                raise self.fail(here, name, "a reshape to computed sizes")
            return Reshape(name, lambda x: x.reshape(x.shape[0], *rest), where)
        pools = _is_in(target, _AVG_POOLS) or _is_in(target, _MAX_POOLS)
        if pools and args[0] is head:
            if any(isinstance(a, fx.Node) for a in args[1:]) or any(
                isinstance(v, fx.Node) for v in kwargs.values()
            ):
                raise self.fail(here, name, "pooling with computed arguments")
            if kwargs.get("return_indices"):
                raise self.fail(here, name, "max pooling that returns indices")
            extra = args[1:]
            fn = _partial(target, extra, kwargs)
            if _is_in(target, _MAX_POOLS):
                return MaxPool(name, fn, where)
            divisor = kwargs.get("divisor_override", args[6] if len(args) > 6 else None)
            if not _positive_divisor(divisor):
                raise self.fail(here, name, _NEGATIVE_POOL)
            return NonnegativeLinear(name, fn, where)
        raise self.fail(here, name, "this operation is not supported")


_NEGATIVE_POOL = "average pooling with a divisor_override that is not positive (not monotone)"


def _positive_divisor(divisor: Any) -> bool:
    """Whether an average pooling's ``divisor_override`` keeps its weights positive (and so
    the pooling monotone, as ``NonnegativeLinear`` bounds it): absent, or above 0."""
    return divisor is None or (isinstance(divisor, int | float) and divisor > 0)


def _partial(fn: Callable, args: tuple, kwargs: dict) -> Callable[[Tensor], Tensor]:
    return lambda x: fn(x, *args, **kwargs)


def _fetch(module: nn.Module, target: str) -> Tensor:
    obj: Any = module
    for part in target.split("."):
        obj = getattr(obj, part)
    if not isinstance(obj, Tensor):
        raise UnsupportedLayerError(f"attribute {target!r} of the model is not a tensor")
    return obj


def _is_batch_size(node: fx.Node, chain: set[fx.Node], sizes: set[fx.Node]) -> bool:
    """``x.size(0)``, ``x.shape`` and ``x.shape[0]`` of a value of the chain (every value
    of it has the batch size first)."""
    if node.op == "call_method" and node.target == "size":
        dim = node.args[1] if len(node.args) > 1 else node.kwargs.get("dim")
        return node.args[0] in chain and dim == 0
    if node.op == "call_function" and node.target is builtins.getattr:
        return node.args[0] in chain and node.args[1] == "shape"
    if node.op == "call_function" and node.target is operator.getitem:
        return node.args[0] in sizes and node.args[1] == 0
    return False


def read_network(model: nn.Module) -> Chain:
    """The network of ``model`` as a chain of bound-propagating operations, numbered in
    order; ``UnsupportedLayerError`` for a layer that cannot be bounded."""
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    op = _Reader().read(model, "")
    chain = op if isinstance(op, Chain) else Chain([op], op.where)
    for i, o in enumerate(chain.walk()):
        o.index = i
    return chain
