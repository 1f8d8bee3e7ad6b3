"""``corollary-1``: the functional certifier with Gaussian noise gives Cohen's l2 radius
``sigma * Phi^{-1}(p_A)`` on every image (Zhang et al. 2020, Corollary 1).
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


@register_check("corollary-1")
class Corollary1(SanityCheck):
    order = 10

    def run(self, inputs: SanityInputs, context: SanityContext) -> CheckResult:
        return check_equals_cohen(
            inputs,
            name=self.name,
            title=f"Corollary 1: {context.functional} = {context.reference} on Gaussian noise, l2",
            certifier=context.functional,
            norms=("l2",),
            cohen=context.reference,
            gg_family=context.generalized_family,
        )
