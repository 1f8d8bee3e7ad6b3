"""The shape each structured entry of a store's manifest has, checked where it is read.

Every reader of a store (certify, report, export, audit, a resumed run) takes the
manifest's entries at their word: a ``law_distances`` that is a list crashes it halfway,
and an ``imported_confidence_spent`` entry of the wrong length would be passed over (its
certificates read as spending nothing beyond alpha, a claim stronger than the one
imported). Nothing smoothbench writes has another shape, so an entry that does was
edited by hand or damaged: ``manifest_fault`` says how, and ``harness.store.Store``
refuses to hand it out (a ``StoreError`` that names the entry)."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

#: What is wrong with a value (a phrase), or None where nothing is.
Shape = Callable[[Any], "str | None"]


def _is_text(value: Any) -> bool:
    return isinstance(value, str)


def _is_mapping(value: Any) -> bool:
    return isinstance(value, dict)


def _is_texts(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def _is_probability(value: Any) -> bool:
    return (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(value)
        and 0 <= value <= 1
    )


def _is_distance(value: Any) -> bool:
    """A law distance as certify records it (``harness.noise.base.approximation_distance``)."""
    return _is_probability(value) and value < 1


def _is_count(value: Any) -> bool:
    return value is None or (isinstance(value, int) and not isinstance(value, bool) and value > 0)


def _scalar(what: str, ok: Callable[[Any], bool]) -> Shape:
    return lambda value: None if ok(value) else f"{value!r} is not {what}"


def _mapping_of(what: str, ok: Callable[[Any], bool]) -> Shape:
    def fault(value: Any) -> str | None:
        if not isinstance(value, dict):
            return f"a {type(value).__name__}, not a mapping of names to {what}"
        for key, item in value.items():
            if not ok(item):
                return f"its entry {key!r} is {item!r}, not {what}"
        return None

    return fault


def _list_of(what: str, ok: Callable[[Any], bool]) -> Shape:
    def fault(value: Any) -> str | None:
        if not isinstance(value, list):
            return f"a {type(value).__name__}, not a list of {what}"
        for item in value:
            if not ok(item):
                return f"it holds {item!r}, not {what}"
        return None

    return fault


def _is_failure(entry: Any) -> bool:
    """A ``certification_failures`` entry (``harness.certificate_groups.failure_entries``)."""
    return (
        isinstance(entry, dict)
        and all(isinstance(entry.get(k), str) for k in ("model", "noise", "certifier", "error"))
        and isinstance(entry.get("norm", ""), str)
    )


def _is_spending(entry: Any) -> bool:
    """An ``imported_confidence_spent`` entry: ``[model, noise, certifier, norm, alpha,
    source, spent]`` (``harness.store.Store.put_imported``)."""
    return (
        isinstance(entry, list)
        and len(entry) == 7
        and all(isinstance(entry[i], str) for i in (0, 1, 2, 3, 5))
        and _is_probability(entry[4])
        and _is_probability(entry[6])
    )


SHAPES: dict[str, Shape] = {
    "n": _scalar("a positive whole number", _is_count),
    "n0": _scalar("a positive whole number", _is_count),
    "law_distances": _mapping_of("a distance in [0, 1)", _is_distance),
    "imported_confidence_spent": _list_of(
        "[model, noise, certifier, norm, alpha, source, spent]", _is_spending
    ),
    "imported_incomplete": _list_of("a source file's name", _is_text),
    "certification_failures": _list_of(
        "a {model, noise, certifier, norm, error} record", _is_failure
    ),
    # a record without a stated bound is kept as sampled: certify refuses its noise alone
    "noise_approximations": _mapping_of("a record of the sampled law", lambda _: True),
    "noise_sources": _mapping_of("a source digest", _is_text),
    "certifier_options": _mapping_of("a mapping of options", _is_mapping),
    "deterministic_versions": _mapping_of("a method version", lambda v: v is not None),
    "deterministic_skipped": _mapping_of("a mapping of certifiers to reasons", _is_mapping),
    "plugins": _list_of("a plugin's file or module", _is_text),
    "plugin_registrations": _mapping_of("a list of registrations", _is_texts),
    "sessions": _list_of("a session's record", _is_mapping),
    "sampled_noises": _mapping_of("a list of noise names", _is_texts),
    "models": _mapping_of("a model's record", _is_mapping),
}


def manifest_fault(key: str, value: Any) -> str | None:
    """What is wrong with the manifest entry ``key`` holding ``value`` (None where it
    has its shape, is absent (None) or is not one of ``SHAPES``)."""
    shape = SHAPES.get(key)
    if shape is None or value is None:
        return None
    return shape(value)
