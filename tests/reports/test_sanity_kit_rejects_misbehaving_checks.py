"""The conformance kit for sanity checks (``reports.sanity.testing``) passes a check that
keeps the contract and names the broken property of each check that does not: every
misbehaving check below fails exactly the properties it breaks."""

from __future__ import annotations

import random
import re

import pytest

from reports.sanity import FAIL, INCOMPLETE, PASS, SKIPPED, CheckResult, SanityCheck
from reports.sanity.testing import (
    SANITY_PROPERTIES,
    board_rows,
    check_sanity_check,
    example_inputs,
)

TITLE = "counts the certificates"


class Counting(SanityCheck):
    """Keeps the contract: skipped on an empty store, else passes with a count."""

    name = "test-counting"

    def run(self, inputs, context):
        if inputs.outcomes.empty:
            return CheckResult(self.name, TITLE, SKIPPED, "the store holds no certificates")
        return CheckResult(self.name, TITLE, PASS, f"{len(inputs.outcomes)} certificates")


def a_row(inputs):
    return sorted(board_rows(inputs))[0]


class FailsOneRow(Counting):
    """Keeps the contract too: fails, marking a row of the board, and leaves one unchecked."""

    def run(self, inputs, context):
        if inputs.outcomes.empty:
            return super().run(inputs, context)
        first, second = sorted(board_rows(inputs))[:2]
        return CheckResult(
            self.name, TITLE, FAIL, "one row fails", affected={first},
            unchecked={second: "its certifier is not registered here"}, max_diff=0.5,
        )  # fmt: skip


class BadStatus(Counting):
    def run(self, inputs, context):
        result = super().run(inputs, context)
        result.status = "ok" if result.status == PASS else result.status
        return result


class NegativeDiff(Counting):
    def run(self, inputs, context):
        result = super().run(inputs, context)
        result.max_diff = -1.0
        return result


class DetailsNotText(Counting):
    def run(self, inputs, context):
        result = super().run(inputs, context)
        result.details = [0.5]
        return result


class NoSummary(Counting):
    def run(self, inputs, context):
        result = super().run(inputs, context)
        result.summary = " "
        return result


class OtherName(Counting):
    def run(self, inputs, context):
        result = super().run(inputs, context)
        result.name = "another-check"
        return result


class StrayRow(Counting):
    def run(self, inputs, context):
        result = super().run(inputs, context)
        if result.status == PASS:
            result.status = FAIL
            result.affected = {("example", "l2", 0.5, "no-such-model", "gaussian", "cohen")}
        return result


class MarksWhilePassing(Counting):
    def run(self, inputs, context):
        result = super().run(inputs, context)
        if result.status == PASS:
            result.affected = {a_row(inputs)}
        return result


class PassesWithUnchecked(Counting):
    def run(self, inputs, context):
        result = super().run(inputs, context)
        if result.status == PASS:
            result.unchecked = {a_row(inputs): "its noise family is not registered here"}
        return result


class PartsDropOne(Counting):
    """Offers one piece per noise, and ``combine`` counts the first piece only."""

    def parts(self, inputs, context):
        return [lambda g=g: len(g) for _, g in inputs.outcomes.groupby("noise", sort=True)] or [
            lambda: 0
        ]

    def combine(self, results, inputs, context):
        if inputs.outcomes.empty:
            return super().run(inputs, context)
        return CheckResult(self.name, TITLE, PASS, f"{results[0]} certificates")


class PartDoesNotPickle(Counting):
    def parts(self, inputs, context):
        return [lambda: lambda: self.run(inputs, context)]

    def combine(self, results, inputs, context):
        (make,) = results
        return make()


class Mutates(Counting):
    def run(self, inputs, context):
        result = super().run(inputs, context)
        inputs.outcomes["radius"] = inputs.outcomes["radius"] * 0.5
        return result


class Random(Counting):
    def run(self, inputs, context):
        result = super().run(inputs, context)
        result.summary += f" ({random.random():.6f})"
        return result


class RaisesOnEmpty(Counting):
    def run(self, inputs, context):
        inputs.outcomes["radius"].iloc[0]
        return super().run(inputs, context)


class PassesOnEmpty(Counting):
    def run(self, inputs, context):
        result = super().run(inputs, context)
        result.status = PASS
        return result


def failed_properties(check) -> set[str]:
    try:
        check_sanity_check(check)
    except AssertionError as err:
        return set(re.findall(r"^\[(\w+)\]", str(err), flags=re.MULTILINE))
    return set()


@pytest.mark.parametrize("check", [Counting(), FailsOneRow()], ids=lambda c: type(c).__name__)
def test_checks_that_keep_the_contract_pass(check):
    check_sanity_check(check)


@pytest.mark.parametrize(
    ("check", "broken"),
    [
        (BadStatus(), {"result"}),
        (NegativeDiff(), {"result"}),
        (OtherName(), {"result"}),
        (DetailsNotText(), {"result"}),
        (NoSummary(), {"result"}),
        (StrayRow(), {"rows"}),
        (MarksWhilePassing(), {"rows"}),
        (PassesWithUnchecked(), {"rows"}),
        (PartsDropOne(), {"parts"}),
        (PartDoesNotPickle(), {"parts"}),
        (Mutates(), {"inputs_kept"}),
        (Random(), {"parts", "repeatable"}),
        (RaisesOnEmpty(), {"empty"}),
        (PassesOnEmpty(), {"empty"}),
    ],
    ids=lambda v: type(v).__name__ if isinstance(v, SanityCheck) else "",
)
def test_each_broken_contract_is_named(check, broken):
    assert failed_properties(check) == broken


def test_the_kit_names_every_property_it_checks():
    broken = {
        "result": BadStatus(),
        "rows": StrayRow(),
        "parts": PartsDropOne(),
        "inputs_kept": Mutates(),
        "repeatable": Random(),
        "empty": RaisesOnEmpty(),
    }
    assert set(broken) == set(SANITY_PROPERTIES)
    for prop, check in broken.items():
        assert prop in failed_properties(check)


def test_a_result_left_incomplete_keeps_the_contract():
    class Incomplete(PassesWithUnchecked):
        def run(self, inputs, context):
            result = super().run(inputs, context)
            if result.unchecked:
                result.status = INCOMPLETE
            return result

    check_sanity_check(Incomplete())


def test_the_example_inputs_exercise_the_built_in_checks():
    """The default inputs are not empty: the corollaries, the hockey-stick check and the
    soundness gate find their certifiers and noises there and pass (not skip)."""
    from reports.sanity import SANITY_CHECKS, SanityContext

    inputs = example_inputs()
    assert not inputs.outcomes.empty and not inputs.counts.empty
    statuses = {
        name: cls().run(inputs, SanityContext()).status for name, cls in SANITY_CHECKS.items()
    }
    for name in ("corollary-1", "corollary-2", "hockey-stick", "soundness", "reproducible"):
        assert statuses[name] == PASS, statuses


def test_anything_but_a_check_is_refused():
    with pytest.raises(TypeError, match="SanityCheck instance"):
        check_sanity_check(Counting)
