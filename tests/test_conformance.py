"""Every registered plugin passes its conformance kit, one pytest id per (plugin, example,
property), as scikit-learn's ``parametrize_with_checks`` does: noise families through
``harness.noise.testing``, certifiers through ``certifiers.testing`` (every supported
(noise, norm) pair of every family's examples at dimensions 3 and 64), deterministic
certifiers through ``certifiers.deterministic.testing`` (its example networks), sanity
checks through ``reports.sanity.testing`` (its example store). A family, certifier or
check registered anywhere (a built-in module or an entry point) is checked here
without an edit to this file."""

from __future__ import annotations

import pytest

from certifiers.deterministic.testing import registered_deterministic_checks
from certifiers.testing import registered_certifier_checks
from harness.noise.testing import registered_noise_checks
from reports.sanity.testing import registered_sanity_checks

NOISE_CASES = registered_noise_checks(dims=(5,))
CERTIFIER_CASES = registered_certifier_checks(dims=(3, 64))
DETERMINISTIC_CASES = registered_deterministic_checks()
SANITY_CASES = registered_sanity_checks()


@pytest.mark.parametrize("check", [c for _, c in NOISE_CASES], ids=[i for i, _ in NOISE_CASES])
def test_noise_family(check):
    check()


@pytest.mark.parametrize(
    "check", [c for _, c in CERTIFIER_CASES], ids=[i for i, _ in CERTIFIER_CASES]
)
def test_certifier(check):
    status = check()
    # the soundness check returns how it ran; at these dimensions nothing may be skipped
    assert not (isinstance(status, str) and "not checked" in status), status


@pytest.mark.parametrize(
    "check", [c for _, c in DETERMINISTIC_CASES], ids=[i for i, _ in DETERMINISTIC_CASES]
)
def test_deterministic_certifier(check):
    check()


@pytest.mark.parametrize("check", [c for _, c in SANITY_CASES], ids=[i for i, _ in SANITY_CASES])
def test_sanity_check(check):
    check()
