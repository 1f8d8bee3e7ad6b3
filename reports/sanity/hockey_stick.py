"""``hockey-stick``: the hockey-stick f-divergence certifier (Dvijotham et al. 2020)
recovers Neyman-Pearson, hence Cohen, on Gaussian noise, for every norm stored.
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


@register_check("hockey-stick")
class HockeyStickEqualsCohen(SanityCheck):
    order = 40

    def run(self, inputs: SanityInputs, context: SanityContext) -> CheckResult:
        return check_equals_cohen(
            inputs,
            name=self.name,
            title=f"{context.hockey_stick} = {context.reference} on Gaussian noise",
            certifier=context.hockey_stick,
            norms=None,
            cohen=context.reference,
            gg_family=context.generalized_family,
        )
