"""Sanity checks on a run's stored counts and certificates, one module a check.

A new check is one file: a ``SanityCheck`` subclass with ``run(inputs, context)``,
registered with ``@register_check("name")`` (and imported here, or registered by a
third-party package through the entry-point group ``smoothbench.sanity``).
``run_checks`` runs every registered check in report order.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import partial
from typing import Any

from reports.sanity import (  # noqa: F401  (register the built-in checks)
    audit,
    corollary_1,
    corollary_2,
    framework_integral,
    hockey_stick,
    matched_variance,
    monotone,
    reproducible,
    soundness,
)
from reports.sanity.base import (
    FAIL,
    GROUP,
    INCOMPLETE,
    PASS,
    SKIPPED,
    BoardRow,
    CheckResult,
    SanityCheck,
    SanityContext,
    SanityInputs,
)
from reports.sanity.equals_reference import check_equals_cohen
from reports.sanity.framework_integral import check_framework_integral
from reports.sanity.matched_variance import check_matched_variance
from reports.sanity.monotone import check_monotone
from reports.sanity.registry import SANITY_CHECKS, register_check
from reports.sanity.reproducible import check_reproducible

__all__ = [
    "FAIL",
    "GROUP",
    "INCOMPLETE",
    "PASS",
    "SANITY_CHECKS",
    "SKIPPED",
    "BoardRow",
    "CheckResult",
    "SanityCheck",
    "SanityContext",
    "SanityInputs",
    "affected_rows",
    "check_equals_cohen",
    "check_framework_integral",
    "check_matched_variance",
    "check_monotone",
    "check_reproducible",
    "register_check",
    "run_checks",
    "unchecked_rows",
]


def run_checks(
    inputs: SanityInputs,
    context: SanityContext | None = None,
    run: Callable[[list[Callable[[], Any]]], list[Any]] | None = None,
    **names: str,
) -> list[CheckResult]:
    """Every registered check, in report order. ``names`` override fields of the context
    (``reference``, ``functional``, ``hockey_stick``, ``generalized_family``; ``cohen``
    and ``gg_family`` are accepted as aliases). ``run`` executes the list of checks
    (``reports.parallel.run_all`` runs them in parallel: each check's ``parts``, the
    costliest checks first); by default one after another."""
    aliases = {"cohen": "reference", "gg_family": "generalized_family"}
    fields = {aliases.get(k, k): v for k, v in names.items()}
    context = SanityContext(**{**(context.__dict__ if context else {}), **fields})
    checks = sorted((cls() for _, cls in SANITY_CHECKS.items()), key=lambda c: (c.order, c.name))
    if run is None:
        return [_guarded(check, lambda c=check: c.run(inputs, context)) for check in checks]
    pieces = [
        (i, partial(_raised_as_value, piece))
        for i, check in enumerate(checks)
        for piece in _guarded(check, lambda c=check: c.parts(inputs, context), parts=True)
    ]
    pieces.sort(key=lambda item: -checks[item[0]].cost)  # stable: a check's parts stay in order
    done = run([piece for _, piece in pieces])
    parts: list[list[Any]] = [[] for _ in checks]
    for (i, _), res in zip(pieces, done, strict=True):
        parts[i].append(res)
    results = []
    for i, check in enumerate(checks):
        raised = next((r for r in parts[i] if isinstance(r, _Raised)), None)
        if raised is not None:
            results.append(_crashed(check, raised.text))
        else:
            results.append(
                _guarded(check, lambda c=check, i=i: c.combine(parts[i], inputs, context))
            )
    return results


@dataclass(frozen=True)
class _Raised:
    """An exception a check's part raised, carried back as a value (across processes)."""

    text: str


def _raised_as_value(piece: Callable[[], Any]) -> Any:
    try:
        return piece()
    except Exception as err:
        return _Raised(f"{type(err).__name__}: {err}")


def _crashed(check: SanityCheck, text: str) -> CheckResult:
    """A check that raised (a plugin's noise or certifier, or a plugin check, failing
    inside it): a failure of the check, named with the exception, and the report is still
    written; no row is marked, since the check did not get to say which."""
    title = getattr(check, "title", check.name)
    return CheckResult(
        check.name,
        title,
        FAIL,
        f"the check itself failed ({text}): a bug in a plugin it ran (a noise, a "
        "certifier) or in the check",
    )


def _guarded(check: SanityCheck, call: Callable[[], Any], parts: bool = False) -> Any:
    """``call()``, or, where it raises, the check's failure (``_crashed``): as a result,
    or as a single part that returns it."""
    try:
        return call()
    except Exception as err:
        crashed = _crashed(check, f"{type(err).__name__}: {err}")
        return [lambda: crashed] if parts else crashed


def affected_rows(results: Iterable[CheckResult]) -> dict[BoardRow, list[str]]:
    """Leaderboard row -> names of the failing checks that affect it."""
    out: dict[BoardRow, list[str]] = {}
    for res in results:
        if res.status == FAIL:
            for row in res.affected:
                out.setdefault(row, []).append(res.name)
    return out


def unchecked_rows(results: Iterable[CheckResult]) -> dict[BoardRow, dict[str, str]]:
    """Leaderboard row -> {name of a check that could not check it here: why}, whatever
    the check's status (a failing check may still have left rows unchecked)."""
    out: dict[BoardRow, dict[str, str]] = {}
    for res in results:
        for row, why in res.unchecked.items():
            out.setdefault(row, {})[res.name] = why
    return out
