"""Dependencies point one way: ``reports -> certifiers -> harness.noise``; the runner uses
``certifiers`` and ``baselines``; ``certifiers`` imports nothing of ``harness`` but
``harness.noise``; ``harness.noise`` imports no other part of the project;
``reports`` reads stores through ``harness.store`` and never imports the runner or
``baselines``; ``baselines`` does not import ``certifiers`` or ``reports``; the
foundation ``smoothbench`` imports none of them. Every import is read from the source
(function-level ones too), so a lazy import cannot hide a cycle."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PROJECT = ("smoothbench", "harness", "certifiers", "baselines", "reports")


def imports_of(path: Path) -> set[str]:
    """Absolute names of the project modules a file imports (anywhere in it)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return {n for n in names if n.split(".")[0] in PROJECT}


def modules(package: str) -> list[Path]:
    return sorted((ROOT / package.replace(".", "/")).rglob("*.py"))


def _under(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


# (package, predicate on an imported name that is forbidden, why)
RULES = [
    ("smoothbench", lambda n: not _under(n, "smoothbench"), "imports nothing of the project"),
    (
        "harness.noise",
        lambda n: not (_under(n, "harness.noise") or _under(n, "smoothbench")),
        "imports nothing but itself and the foundation",
    ),
    (
        "certifiers",
        lambda n: (
            _under(n, "reports")
            or _under(n, "baselines")
            or (_under(n, "harness") and not _under(n, "harness.noise") and n != "harness")
        ),
        "imports nothing of harness but harness.noise, nor baselines or reports",
    ),
    (
        "reports",
        lambda n: (
            _under(n, "baselines")
            or _under(n, "harness.runner")
            or _under(n, "harness.sampler")
            or _under(n, "harness.certify")
            or _under(n, "harness.identity")
        ),
        "never imports the runner or baselines",
    ),
    (
        "baselines",
        lambda n: _under(n, "certifiers") or _under(n, "reports"),
        "does not import certifiers or reports",
    ),
    (
        "harness",
        lambda n: _under(n, "reports"),
        "does not import reports (the command line and the [report] settings aside)",
    ),
]


@pytest.mark.parametrize("package,forbidden,why", RULES, ids=[r[0] for r in RULES])
def test_import_direction(package, forbidden, why):
    bad = []
    for path in modules(package):
        rel = path.relative_to(ROOT)
        allowed = _allowed_reports(rel.as_posix()) if package == "harness" else ()
        for name in sorted(imports_of(path)):
            if any(_under(name, a) for a in allowed):
                continue
            if name == "harness" and package == "certifiers":
                bad.append(f"{rel}: imports the harness package itself")
            elif forbidden(name):
                bad.append(f"{rel}: imports {name}")
    assert not bad, f"{package} {why}:\n" + "\n".join(bad)


def test_only_the_command_line_runs_the_audits():
    """``harness.audit`` runs models and attacks: only the command line (and the audit
    package itself) imports it; the report reads its summary from the store."""
    bad = []
    for package in PROJECT:
        for path in modules(package):
            rel = path.relative_to(ROOT).as_posix()
            if rel.startswith(("harness/audit/", "harness/cli/")):
                continue
            if any(_under(n, "harness.audit") for n in imports_of(path)):
                bad.append(rel)
    assert not bad, f"only harness/cli imports harness.audit: {bad}"
    assert any(
        _under(n, "harness.audit") for n in imports_of(ROOT / "harness/cli/audit_command.py")
    )


def _allowed_reports(path: str) -> tuple[str, ...]:
    """The command line (the top of the stack) dispatches to the report writer and its
    tools, and the config parser hands the [report] table to its owner; nothing else in
    harness imports reports."""
    if path.startswith("harness/cli/"):
        return ("reports",)
    if path == "harness/config.py":
        return ("reports.settings",)
    return ()


def test_the_rules_see_real_imports():
    """The parser finds the imports it must judge (a rule that sees nothing cannot fail)."""
    found = imports_of(ROOT / "certifiers" / "cohen.py")
    assert "harness.noise" in found and "certifiers.registry" in found
    assert any(_under(n, "harness.store") for n in imports_of(ROOT / "reports" / "tidy.py"))
