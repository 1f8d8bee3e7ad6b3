"""The report's lines for certificate groups a complete store would hold: a group whose
certifier failed is named once, with its error, and not sent to ``smoothbench certify``,
which would fail the same way; the others get the command that completes them."""

from __future__ import annotations

from reports.completeness import missing_group_warnings


def test_a_failed_group_is_named_with_its_error_and_no_command():
    missing = [
        ("m", "gauss", "broken", "l2", 0.001),
        ("m", "gauss", "broken", "l1", 0.001),
        ("m", "gauss", "cohen", "l2", 0.01),
    ]
    failures = [{"model": "m", "noise": "gauss", "certifier": "broken", "error": "boom"}]
    lines = missing_group_warnings(missing, "s.sqlite", failures)
    failed = [line for line in lines if line.startswith("certification failed")]
    incomplete = [line for line in lines if line.startswith("certification incomplete")]
    assert len(failed) == 1 and "broken on m / gauss: boom" in failed[0]
    assert len(incomplete) == 1 and "alpha = 0.01" in incomplete[0]
    assert "broken" not in incomplete[0]
    assert "smoothbench certify s.sqlite --alpha 0.01 --certifier cohen --norm l2" in incomplete[0]
    assert len(lines) == 2
