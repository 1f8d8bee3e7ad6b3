"""CROWN (Zhang et al. 2018, "Efficient neural network robustness certification with
general activation functions"): backward linear bounds on the margins.

Starting from the margin specification ``C`` (row ``j`` is ``e_y - e_j``), the
coefficients ``lam`` are pushed back layer by layer (``Op.backward``): exactly through
affine layers, and through each ReLU with input bounds ``[l, u]`` by the relaxation
``alpha x <= relu(x) <= s (x - l)``, ``s = u / (u - l)``, taking the lower line where a
coefficient is positive and the upper line where it is negative. At the input,
``min over the box of lam . x + bias = lam . c - |lam| . r + bias``.

The ReLU input bounds come from IBP, as in CROWN-IBP (Zhang et al. 2020,
``intermediate = "ibp"``, the default), or from CROWN itself applied to every ReLU's
input in turn (``intermediate = "crown"``, tighter and far costlier: two backward passes
per neuron), intersected with the IBP bounds. The margin bound reported is the larger of
the CROWN bound and the IBP bound of ``certifiers.deterministic.ibp`` on the same
intermediate bounds: both are valid lower bounds, so their maximum is one, and ``crown``
certifies every input ``ibp`` certifies. Max pooling has no linear relaxation here:
``crown`` refuses it (``ibp`` bounds it).

Memory: ``lam`` holds (margins, or two rows per neuron for full CROWN) x (the widest
layer) numbers per input; batches are split so that it stays within
``max_coefficients`` (2^26, half a GiB in float64), and an input that alone exceeds it
is refused with a clear error (e.g. 1000 ImageNet classes at a ResNet's width).
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from certifiers.base import UnsupportedError
from certifiers.deterministic.base import DeterministicCertifier
from certifiers.deterministic.ibp import folded_margins
from certifiers.deterministic.network import UnsupportedLayerError
from certifiers.deterministic.ops import (
    Backward,
    BoundState,
    Box,
    Chain,
    ReLU,
    Residual,
    concretize,
    numel,
)
from certifiers.registry import register

INTERMEDIATE = ("ibp", "crown")


def crown_refinement(input_box: Box):
    """``refine(box, prefix)`` for ``BoundState``: CROWN bounds on every neuron of a
    ReLU's input (two backward passes per neuron, lower and upper), intersected with
    ``box``; ``prefix`` is the backward map from there to the network input.

    Every ReLU input is refined, stable or not: tighter bounds on a stable neuron still
    tighten the boxes of the layers after it, and an input's bounds must not depend on
    whether another input of its batch has an unstable neuron there."""

    def refine(box: Box, prefix: Backward | None) -> Box:
        if prefix is None:
            return box
        batch, shape = box.lower.shape[0], box.lower.shape[1:]
        n = numel(shape)
        eye = torch.eye(n, dtype=box.lower.dtype, device=box.lower.device).reshape(n, *shape)
        lam = torch.cat([eye, -eye]).unsqueeze(0).expand(batch, 2 * n, *shape)
        lam_in, bias = prefix(lam)
        bound = concretize(lam_in, input_box) + bias
        lower = bound[:, :n].reshape(batch, *shape)
        upper = -bound[:, n:].reshape(batch, *shape)
        return Box(torch.maximum(box.lower, lower), torch.minimum(box.upper, upper))

    return refine


@register("crown")
class CROWN(DeterministicCertifier):
    """Backward linear bounds (CROWN) with IBP (default) or CROWN intermediate bounds,
    for networks of Linear, Conv2d, ReLU, batch normalization, Flatten, pooling by
    averages, the normalization layer and residual blocks."""

    def __init__(
        self,
        intermediate: str = "ibp",
        dtype: str = "float64",
        batch_size: int = 256,
        bisection_steps: int = 16,
        max_coefficients: int = 1 << 26,
    ) -> None:
        super().__init__(dtype=dtype, batch_size=batch_size, bisection_steps=bisection_steps)
        if intermediate not in INTERMEDIATE:
            raise ValueError(f"intermediate must be one of {INTERMEDIATE}, got {intermediate!r}")
        if isinstance(max_coefficients, bool) or not isinstance(max_coefficients, int):
            raise ValueError(f"max_coefficients must be an integer, got {max_coefficients!r}")
        if max_coefficients < 1:
            raise ValueError(f"max_coefficients must be positive, got {max_coefficients}")
        self.intermediate = intermediate
        self.max_coefficients = max_coefficients

    def options(self) -> dict[str, Any]:
        return {
            "intermediate": self.intermediate,
            **super().options(),
            "max_coefficients": self.max_coefficients,
        }

    def coefficients_per_input(self, network: Chain, box: Box, specs: int) -> int:
        """How many numbers one input's coefficients ``lam`` take at the widest layer:
        ``specs`` rows (the margins), or for full CROWN two rows per neuron of the widest
        ReLU input, times the largest layer."""
        one = Box(box.lower[:1], box.upper[:1])
        state = BoundState(box.lower.dtype, one)
        output = network.interval(one, state, None)
        sizes = {i: numel(b.lower.shape[1:]) for i, b in state.inputs.items()}
        widest = max([numel(output.lower.shape[1:]), *sizes.values()])
        rows = specs
        if self.intermediate == "crown":
            relus = [sizes[op.index] for op in network.walk() if isinstance(op, ReLU)]
            rows = max([specs, *(2 * n for n in relus)])
        return rows * widest

    def check_network(self, network: Chain) -> None:
        for position, op in enumerate(network.walk()):
            if not op.linear_bounds and not isinstance(op, Chain | Residual):
                raise UnsupportedLayerError(
                    f"crown cannot bound {op.where} (operation {position} of the network): "
                    "it has no linear relaxation here; use ibp"
                )

    def bound_margins(self, network: Chain, box: Box, spec: Tensor) -> Tensor:
        """CROWN bounds, in sub-batches that keep ``lam`` within ``max_coefficients``."""
        per_input = self.coefficients_per_input(network, box, spec.shape[1])
        if per_input > self.max_coefficients:
            raise UnsupportedError(
                f"crown would hold {per_input:,} coefficients for one input (margins or "
                f"neurons x the widest layer), above max_coefficients = "
                f"{self.max_coefficients:,}; use ibp, or raise max_coefficients"
            )
        rows = max(1, self.max_coefficients // per_input)
        if len(spec) <= rows:
            return self._bound(network, box, spec)
        return torch.cat(
            [
                self._bound(network, Box(box.lower[s : s + rows], box.upper[s : s + rows]),
                            spec[s : s + rows])
                for s in range(0, len(spec), rows)
            ]
        )  # fmt: skip

    def _bound(self, network: Chain, box: Box, spec: Tensor) -> Tensor:
        refine = crown_refinement(box) if self.intermediate == "crown" else None
        state = BoundState(box.lower.dtype, box, refine)
        output = network.interval(box, state, None)
        lam, bias = network.backward(spec, state)
        crown = concretize(lam, box) + bias
        return torch.maximum(crown, folded_margins(network, spec, state, output))
