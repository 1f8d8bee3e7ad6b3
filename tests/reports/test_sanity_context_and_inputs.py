"""Gaps in reports.sanity found by mutation: the context names a caller passes, the
Gaussian a stored spec is, and the options a certifier is rebuilt with."""

from __future__ import annotations

import numpy as np
from scipy import stats as sps

from certifiers.base import Certifier
from harness.certify import certify_store
from harness.noise import Gaussian
from reports.sanity import FAIL, PASS, SKIPPED, SanityContext, SanityInputs, run_checks
from reports.sanity.base import as_gaussian
from reports.sanity.reproducible import check_reproducible
from tests.reports._report_synth import ALPHA, DIM, cohen_by_hand, copy_certificates, winner_store


def test_names_passed_with_a_context_override_its_fields(tmp_path):
    """run_checks(inputs, context, functional=...) checks the named functional certifier:
    the keyword wins over the context, as the docstring says ("names override fields of
    the context"). Its radii are 1% above Cohen's, so Corollary 1 must fail."""
    with winner_store(tmp_path / "s.sqlite") as store:
        wrong = lambda p, spec, norm: 1.01 * cohen_by_hand(p, spec, norm)  # noqa: E731
        copy_certificates(store, "cohen", "test-functional", wrong)
        inputs = SanityInputs.from_store(store)
    res = {c.name: c for c in run_checks(inputs, SanityContext(), functional="test-functional")}
    assert res["corollary-1"].status == FAIL
    assert {row[5] for row in res["corollary-1"].affected} == {"test-functional"}


def test_the_cohen_alias_names_the_reference(tmp_path):
    """``cohen=`` is an accepted alias of ``reference=``: an unregistered reference named
    through it skips the Cohen comparisons with that name in the reason."""
    with winner_store(tmp_path / "s.sqlite") as store:
        inputs = SanityInputs.from_store(store)
    res = {c.name: c for c in run_checks(inputs, cohen="test-absent-reference")}
    for name in ("corollary-1", "corollary-2", "hockey-stick"):
        assert res[name].status == SKIPPED
        assert "'test-absent-reference' not registered" in res[name].summary


def test_only_the_k0_generalized_gaussian_is_a_gaussian():
    """The generalized Gaussian is N(0, sigma^2 I) at k = 0 only; at k = 1 it is another
    law, which the Cohen comparisons must not hold to Cohen's radius."""
    params = {"sigma": 0.25, "dim": DIM}
    k0 = as_gaussian({"family": "gg", "params": {**params, "k": 0}}, "gg")
    assert isinstance(k0, Gaussian) and k0.sigma == 0.25 and k0.dim == DIM
    assert as_gaussian({"family": "gg", "params": {**params, "k": 1}}, "gg") is None
    assert as_gaussian({"family": "gg", "params": {**params, "k": 0.5}}, "gg") is None
    assert as_gaussian({"family": "other", "params": {**params, "k": 0}}, "gg") is None
    plain = as_gaussian({"family": "gaussian", "params": params}, "gg")
    assert isinstance(plain, Gaussian) and plain.sigma == 0.25


class HalfCohen(Certifier):
    """``factor`` x Cohen's radius, ``factor`` a constructor option (recorded by the store)."""

    def __init__(self, factor: float = 1.0) -> None:
        self.factor = float(factor)

    def options(self):
        return {"factor": self.factor}

    def supports(self, noise, norm):
        return isinstance(noise, Gaussian) and norm == "l2"

    def _radius(self, noise, p, norm):
        return self.factor * noise.sigma * sps.norm.ppf(p)


def test_radii_are_reproduced_with_the_options_the_store_recorded(tmp_path, plugins):
    """A certifier run with factor = 0.5 reproduces only when rebuilt with that option:
    the check must pass (and it must recompute the radii, not skip them)."""
    plugins.certifier("test-opt", HalfCohen)
    with winner_store(tmp_path / "s.sqlite") as store:
        options = {"test-opt": {"factor": 0.5}}
        certify_store(store, ["test-opt"], ["l2"], [ALPHA], progress=False, options=options)
        inputs = SanityInputs.from_store(store)
    stored = inputs.outcomes[inputs.outcomes["certifier"] == "test-opt"]
    live = stored[stored["p_lower"] > 0.5]
    want = 0.5 * 0.25 * sps.norm.ppf(live["p_lower"].to_numpy())
    np.testing.assert_allclose(live["radius"].to_numpy(), want, rtol=1e-9)
    res = check_reproducible(inputs)
    assert res.status == PASS, res.summary
    assert not res.affected


def test_a_failing_check_still_names_the_rows_it_could_not_check():
    """unchecked_rows keeps a check's unchecked rows whatever its status (its docstring:
    "a failing check may still have left rows unchecked")."""
    from reports.sanity import CheckResult, affected_rows, unchecked_rows

    bad = ("synthetic", "l2", 0.001, "m", "n", "a")
    left = ("synthetic", "l2", 0.001, "m", "n", "b")
    res = CheckResult("c", "c", FAIL, "failed", affected={bad}, unchecked={left: "why"})
    assert unchecked_rows([res]) == {left: {"c": "why"}}
    assert affected_rows([res]) == {bad: ["c"]}


def test_checks_run_through_a_runner_give_what_one_pass_gives(tmp_path):
    """run_checks(run=...) spreads the checks' parts (costliest first) and must hand each
    check back its own parts' results: the same results as the plain one-pass run."""
    with winner_store(tmp_path / "s.sqlite") as store:
        inputs = SanityInputs.from_store(store)
    plain = run_checks(inputs)
    spread = run_checks(inputs, run=lambda tasks: [task() for task in tasks])
    assert [(c.name, c.status, c.summary) for c in spread] == [
        (c.name, c.status, c.summary) for c in plain
    ]


def test_a_failed_attack_audit_fails_the_check(tmp_path):
    """An attack audit cell that broke a certificate fails the audit check, like a
    statistical one."""
    from harness.store import AuditRow
    from reports.sanity.audit import check_audit

    with winner_store(tmp_path / "s.sqlite") as store:
        store.put_audit(
            [AuditRow("attack", "cohen", "gaussian(dim=3,sigma=0.5)", "l2", "linear",
                      10, 1, 0.001, 0.0, 0.0, 0.3, 0.2, False, {})]
        )  # fmt: skip
        res = check_audit(SanityInputs.from_store(store))
    assert res.status == FAIL
    assert {(row[5], row[1]) for row in res.affected} == {("cohen", "l2")}
