"""The public conformance kit for sanity checks, the twin of ``check_noise`` and
``check_certifier``: every check, built-in or third-party, must pass it.

    from reports.sanity.testing import check_sanity_check
    def test_my_check():
        check_sanity_check(MyCheck())

Properties, each checked on its own (``SANITY_PROPERTIES``), on ``example_inputs()`` (a
small store made here without a model: a Gaussian and a generalized Gaussian noise,
Cohen's, the functional and the hockey-stick certifiers in l2 and l-inf) or on the inputs
given (``SanityInputs.from_store`` of a store that holds the plugin's own noise):

- ``result``: ``run`` returns a ``CheckResult`` named as the check, with a status of
  ``pass``, ``fail``, ``skipped`` or ``incomplete``, a title and a summary, details as
  strings, and ``max_diff`` None or a number that is not NaN and not negative;
- ``rows``: the rows it marks (``affected``) and those it could not check
  (``unchecked``, each with a reason) are rows of the leaderboard, ``(dataset, norm,
  alpha, model, noise, certifier)`` as the inputs' certificates hold them; only a failing
  result marks rows, and a result that left rows unchecked does not pass (the report
  trusts both);
- ``parts``: ``combine`` over the results of ``parts`` says what ``run`` says, and those
  results pickle (the report runs the parts in worker processes, ``reports.parallel``);
- ``inputs_kept``: the inputs are the same after the check (every check reads the same
  ones);
- ``repeatable``: a second run says the same;
- ``empty``: on a store with no certificates and no counts the check is ``skipped``, with
  its reason, and raises nothing.

``check_sanity_check`` runs them all and raises one ``AssertionError`` that lists every
property that failed, one line each.
"""

from __future__ import annotations

import copy
import math
import pickle
import tempfile
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

import certifiers
from certifiers.bounds import certify_top_class
from harness.noise import Gaussian, noise_class
from harness.noise.testing import describe_failure
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
    board_row,
)

SANITY_PROPERTIES: tuple[str, ...] = (
    "result",
    "rows",
    "parts",
    "inputs_kept",
    "repeatable",
    "empty",
)
_STATUSES = (PASS, FAIL, SKIPPED, INCOMPLETE)
_EXAMPLE_CERTIFIERS = ("cohen", "functional", "fdiv-hockey-stick")


@lru_cache(maxsize=1)
def _example_inputs() -> SanityInputs:
    from harness.store import CertificateRow, CountRow, Store

    dim, n0, n, classes, images, alpha = 16, 100, 1000, 10, 24, 0.001
    noises = [
        Gaussian(0.25, dim),
        noise_class("generalized_gaussian").matched(0.25, dim, k=8.0),
    ]
    rng = np.random.default_rng(20261206)
    labels = np.arange(images) % classes
    with tempfile.TemporaryDirectory() as folder:
        store = Store(Path(folder) / "example.sqlite")
        try:
            store.put_manifest(
                {
                    "config": {"report": {"reference": "cohen"}},
                    "dataset": "example",
                    "seed": 0,
                    "n0": n0,
                    "n": n,
                    "index_set": list(range(images)),
                    "models": {"example-model": {"sha256": "0" * 64, "sigma0": 0.25}},
                    "code_version": "conformance-kit",
                }
            )
            store.put_noises({noise.name: noise.spec() for noise in noises})
            for noise in noises:
                # right on most images, with p_A from an abstention to near 1
                predicted = np.where(rng.random(images) < 0.8, labels, (labels + 1) % classes)
                estimation = np.stack(
                    [
                        rng.multinomial(n, _class_probabilities(top, p, classes))
                        for top, p in zip(predicted, rng.uniform(0.3, 0.999, images), strict=True)
                    ]
                )
                selection = np.zeros_like(estimation)
                selection[np.arange(images), predicted] = n0
                store.put_counts(
                    CountRow("example-model", noise.name, i, int(labels[i]), selection[i],
                             estimation[i], 0.01)
                    for i in range(images)
                )  # fmt: skip
                # certified as `smoothbench certify` does (which the report may not import)
                distance = noise.sampled_law_distance(None)
                store.record_law_distance(noise.name, distance)
                outcome = certify_top_class(selection, estimation, alpha, distance)
                rows = []
                for name in _EXAMPLE_CERTIFIERS:
                    certifier = certifiers.get(name)
                    for norm in ("l2", "linf"):
                        if not certifier.supports(noise, norm):
                            continue
                        radius = np.atleast_1d(certifier.radius(noise, outcome.p_lower, norm))
                        spent = certifier.confidence_spent(noise, norm)
                        rows.extend(
                            CertificateRow("example-model", noise.name, i, name, norm, alpha,
                                           int(outcome.prediction[i]),
                                           float(outcome.p_lower[i]), float(radius[i]),
                                           bool(outcome.prediction[i] == labels[i]), spent)
                            for i in range(images)
                        )  # fmt: skip
                store.put_certificates(rows)
            return SanityInputs.from_store(store)
        finally:
            store.close()


def _class_probabilities(top: int, p_top: float, classes: int) -> np.ndarray:
    p = np.full(classes, (1.0 - p_top) / (classes - 1))
    p[top] = p_top
    return p


def example_inputs() -> SanityInputs:
    """The inputs the kit checks a sanity check on by default: a store of 24 images of
    one model under a Gaussian and a matched generalized Gaussian noise (``d = 16``,
    ``n0 = 100``, ``n = 1000``), certified at ``alpha = 0.001`` by Cohen's, the
    functional and the hockey-stick certifiers in l2 and l-inf. A fresh copy each call."""
    return copy.deepcopy(_example_inputs())


def empty_inputs(like: SanityInputs | None = None) -> SanityInputs:
    """Inputs with no certificate, no count and no noise, in the columns of ``like``
    (the example inputs by default)."""
    like = like if like is not None else _example_inputs()
    return SanityInputs(
        like.outcomes.iloc[:0].copy(), like.counts.iloc[:0].copy(), {}, like.dataset
    )


def board_rows(inputs: SanityInputs) -> set[BoardRow]:
    """The leaderboard rows of ``inputs``: its certificates' ``(dataset, norm, alpha,
    model, noise, certifier)``."""
    keys = inputs.outcomes[GROUP].drop_duplicates().itertuples(index=False, name=None)
    return {board_row(key) for key in keys}


def _said(result: CheckResult) -> tuple[Any, ...]:
    """What a result says, for comparing two of them."""
    diff = result.max_diff
    return (
        result.name,
        result.status,
        result.summary,
        tuple(result.details),
        None if diff is None or (isinstance(diff, float) and math.isnan(diff)) else diff,
        frozenset(result.affected),
        tuple(sorted(result.unchecked.items())),
    )


def _ran(check: SanityCheck, inputs: SanityInputs, context: SanityContext) -> CheckResult:
    result = check.run(inputs, context)
    assert isinstance(result, CheckResult), (
        f"run returned {type(result).__name__}, not a CheckResult"
    )
    return result


def check_result(check: SanityCheck, inputs: SanityInputs, context: SanityContext) -> None:
    r = _ran(check, inputs, context)
    assert r.name == check.name, f"the result is named {r.name!r}, the check {check.name!r}"
    assert r.status in _STATUSES, f"status {r.status!r} is none of {', '.join(_STATUSES)}"
    for name in ("title", "summary"):
        text = getattr(r, name)
        assert isinstance(text, str) and text.strip(), f"the result's {name} is empty: {text!r}"
    assert isinstance(r.details, list) and all(isinstance(d, str) for d in r.details), (
        f"details must be a list of strings, got {r.details!r}"
    )
    if r.max_diff is not None:
        diff = float(r.max_diff)
        assert not math.isnan(diff) and diff >= 0.0, f"max_diff must be >= 0, got {diff!r}"


def check_rows(check: SanityCheck, inputs: SanityInputs, context: SanityContext) -> None:
    r = _ran(check, inputs, context)
    rows = board_rows(inputs)
    for what, marked in (("affected", set(r.affected)), ("unchecked", set(r.unchecked))):
        stray = sorted(map(str, marked - rows))
        assert not stray, (
            f"{what} names {len(stray)} row(s) the leaderboard does not hold (rows are "
            f"(dataset, norm, alpha, model, noise, certifier) of the certificates): {stray[:3]}"
        )
    assert not r.affected or r.status == FAIL, (
        f"a {r.status} result marks {len(r.affected)} row(s) as affected: only a failing "
        "check marks rows"
    )
    no_reason = [row for row, why in r.unchecked.items() if not (isinstance(why, str) and why)]
    assert not no_reason, f"unchecked rows without a reason: {no_reason[:3]}"
    assert not (r.unchecked and r.status == PASS), (
        f"the check passes with {len(r.unchecked)} row(s) it could not check: it is "
        f"{INCOMPLETE} (or {FAIL})"
    )


def check_parts(check: SanityCheck, inputs: SanityInputs, context: SanityContext) -> None:
    whole = _ran(check, inputs, context)
    parts = check.parts(inputs, context)
    assert parts, "parts returned no piece: run nothing and the check says nothing"
    results = [piece() for piece in parts]
    for i, res in enumerate(results):
        try:
            pickle.loads(pickle.dumps(res))
        except Exception as err:
            raise AssertionError(
                f"the result of part {i} does not pickle, so it cannot come back from a "
                f"worker process: {describe_failure(err)}"
            ) from err
    combined = check.combine(results, inputs, context)
    assert isinstance(combined, CheckResult), (
        f"combine returned {type(combined).__name__}, not a CheckResult"
    )
    assert _said(combined) == _said(whole), (
        f"combine over the {len(parts)} part(s) says {combined.line()!r}; run says {whole.line()!r}"
    )


def check_inputs_kept(check: SanityCheck, inputs: SanityInputs, context: SanityContext) -> None:
    before = copy.deepcopy(inputs)
    _ran(check, inputs, context)
    for name in ("outcomes", "counts"):
        old, new = getattr(before, name), getattr(inputs, name)
        same = old.shape == new.shape and list(old.columns) == list(new.columns)
        same = same and all(
            _column_equal(old[c].to_numpy(), new[c].to_numpy()) for c in old.columns
        )
        assert same and old.index.equals(new.index), f"the check changed inputs.{name}"
    for name in (
        "specs",
        "dataset",
        "certifier_options",
        "audit",
        "law_distances",
        "noise_approximations",
    ):
        assert getattr(before, name) == getattr(inputs, name), f"the check changed inputs.{name}"


def _column_equal(a: np.ndarray, b: np.ndarray) -> bool:
    if a.dtype == object or b.dtype == object:  # arrays of counts, strings
        return len(a) == len(b) and all(
            np.array_equal(x, y) if isinstance(x, np.ndarray) else x == y
            for x, y in zip(a, b, strict=True)
        )
    return np.array_equal(a, b, equal_nan=a.dtype.kind == "f")


def check_repeatable(check: SanityCheck, inputs: SanityInputs, context: SanityContext) -> None:
    first, second = _ran(check, inputs, context), _ran(check, inputs, context)
    assert _said(first) == _said(second), (
        f"a second run says {second.line()!r} where the first said {first.line()!r}"
    )


def check_empty(check: SanityCheck, inputs: SanityInputs, context: SanityContext) -> None:
    r = _ran(check, empty_inputs(inputs), context)
    assert r.status == SKIPPED, (
        f"on a store with nothing in it the check is {r.status!r} ({r.summary}), not "
        f"{SKIPPED!r}: a check with nothing to check says so"
    )


_CHECKS: dict[str, Callable[[SanityCheck, SanityInputs, SanityContext], None]] = {
    "result": check_result,
    "rows": check_rows,
    "parts": check_parts,
    "inputs_kept": check_inputs_kept,
    "repeatable": check_repeatable,
    "empty": check_empty,
}


def sanity_checks(
    check: SanityCheck,
    inputs: SanityInputs | None = None,
    context: SanityContext | None = None,
) -> list[tuple[str, Callable[[], None]]]:
    """``(property, check)`` pairs, one per property of ``SANITY_PROPERTIES``; each runs on
    a fresh copy of ``inputs`` (the example inputs by default)."""
    context = context if context is not None else SanityContext()

    def fresh() -> SanityInputs:
        return example_inputs() if inputs is None else copy.deepcopy(inputs)

    return [
        (prop, lambda fn=_CHECKS[prop]: fn(check, fresh(), context)) for prop in SANITY_PROPERTIES
    ]


def check_sanity_check(
    check: SanityCheck,
    inputs: SanityInputs | None = None,
    context: SanityContext | None = None,
) -> None:
    """Run every property on ``check``; raise one ``AssertionError`` listing each failure
    (any exception a property raises is a failure of that property, and the others still
    run)."""
    if not isinstance(check, SanityCheck):
        raise TypeError(
            f"check_sanity_check takes a SanityCheck instance, got {type(check).__name__}"
        )
    failures = []
    for prop, run in sanity_checks(check, inputs, context):
        try:
            run()
        except Exception as err:
            failures.append(f"[{prop}] {check.name}: {describe_failure(err)}")
    if failures:
        n = len(failures)
        raise AssertionError(
            f"sanity check {check.name} fails {n} conformance propert"
            f"{'y' if n == 1 else 'ies'}:\n" + "\n".join(failures)
        )


def registered_sanity_checks() -> list[tuple[str, Callable[[], None]]]:
    """``(id, check)`` for every registered sanity check (built-in and plugin) and each
    property, on the example inputs: what the registry-wide tests parametrize over."""
    from reports.sanity.registry import SANITY_CHECKS

    out = []
    for name, cls in SANITY_CHECKS.items():
        for prop, run in sanity_checks(cls()):
            out.append((f"{name}-{prop}", run))
    return out
