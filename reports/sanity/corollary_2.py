"""``corollary-2``: the functional certifier with Gaussian noise against l-inf gives
``sigma * Phi^{-1}(p_A) / sqrt(d)`` (Zhang et al. 2020, Corollary 2: the worst shift is a
vertex of the cube).
"""

from __future__ import annotations

from reports.sanity.base import (
    CheckResult,
    SanityCheck,
    SanityContext,
    SanityInputs,
)
from reports.sanity.equals_reference import check_equals_cohen
from reports.sanity.registry import register_check


@register_check("corollary-2")
class Corollary2(SanityCheck):
    order = 30

    def run(self, inputs: SanityInputs, context: SanityContext) -> CheckResult:
        return check_equals_cohen(
            inputs,
            name=self.name,
            title=(
                f"Corollary 2: {context.functional} = {context.reference} on Gaussian noise, l-inf"
            ),
            certifier=context.functional,
            norms=("linf",),
            cohen=context.reference,
            gg_family=context.generalized_family,
        )
