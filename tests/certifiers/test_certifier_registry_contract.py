"""The certifier registry's small contract: ``available`` lists every registered name,
sorted (a plugin registered last included); ``is_deterministic`` answers alike for a
name, a class and an instance, True for the box-bounding certifiers only, False for an
object that does not say; unknown options are a ValueError naming them."""

from __future__ import annotations

import pytest

import certifiers
from certifiers.base import Certifier
from certifiers.registry import CERTIFIERS, available, get, is_deterministic


class Plain(Certifier):
    """A test-only count-based certifier (no table: nothing to certify)."""


def test_available_lists_every_name_sorted_a_plugin_registered_last_included(plugins):
    plugins.certifier("zzzz-last-test", Plain)
    plugins.certifier("aaaa-first-test", type("First", (Plain,), {}))
    names = available()
    assert names == sorted(names)
    assert {"cohen", "ibp", "crown", "zzzz-last-test", "aaaa-first-test"} <= set(names)
    assert names[-1] == "zzzz-last-test" and names[0] == "aaaa-first-test"
    assert set(names) == set(CERTIFIERS.names())


@pytest.mark.parametrize("name,expected", [("ibp", True), ("crown", True), ("cohen", False)])
def test_is_deterministic_agrees_for_a_name_a_class_and_an_instance(name, expected):
    inst = get(name)
    assert is_deterministic(name) is expected
    assert is_deterministic(type(inst)) is expected
    assert is_deterministic(inst) is expected


def test_an_object_that_does_not_say_is_not_deterministic():
    assert is_deterministic(object()) is False
    assert is_deterministic(object) is False


def test_unknown_options_are_a_value_error_naming_them():
    with pytest.raises(ValueError, match=r"'cohen' does not take the option 'nope'"):
        certifiers.get("cohen", nope=1)
