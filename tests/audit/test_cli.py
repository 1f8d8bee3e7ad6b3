"""``smoothbench audit`` end to end: a run's store, audited quickly, shows the summary in
the report's sanity section; an unsound certifier fails the audit (exit code 3) and
the report says so."""

from __future__ import annotations

import csv

import pytest

from harness.audit.statistical import smoothing_certifiers
from harness.cli import main
from harness.store import Store

CONFIG = (
    '[run]\nname = "t"\ndataset = "digits"\narch = "mlp"\ntrain_sigmas = [0.5]\n'
    "n_test = 3\nn0 = 20\nn = 500\n"
    '[[noises]]\nfamily = "gaussian"\n[[noises]]\nfamily = "laplace"\n'
    "[certify]\ncertifiers = {certifiers}\nalpha = [0.01]\n"
)


def _sanity(report_dir) -> dict[str, dict[str, str]]:
    with open(report_dir / "sanity.csv") as fh:
        return {row["check"]: row for row in csv.DictReader(fh)}


def test_help(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["audit", "--help"])
    assert exc.value.code == 0
    assert "--quick" in capsys.readouterr().out


def test_audit_a_store_and_report_it(tmp_path, capsys):
    cfg = tmp_path / "c.toml"
    cfg.write_text(CONFIG.format(certifiers='["cohen", "wulff"]'))
    store = tmp_path / "s.sqlite"
    assert main(["run", str(cfg), "--store", str(store), "--quiet"]) == 0
    assert main(["report", str(store), "--out", str(tmp_path / "before")]) == 0
    before = _sanity(tmp_path / "before")["audit"]
    assert before["status"] == "skipped" and "not audited" in before["summary"]

    capsys.readouterr()
    out = tmp_path / "audit"
    assert main(["audit", str(store), "--quick", "--out", str(out), "--quiet"]) == 0
    printed = capsys.readouterr().out
    for name in ("cohen", "wulff"):  # the store's certifiers, and only they
        assert name in printed
    assert not set(smoothing_certifiers()) - {"cohen", "wulff"} & set(printed.split())
    assert (out / "audit.txt").read_text() == printed

    with Store.open_existing(store, readonly=True) as st:
        rows = st.audit_rows()
    stat = {r.certifier for r in rows if r.audit == "statistical"}
    attacked = {r.certifier for r in rows if r.audit == "attack" and r.trials > 0}
    assert stat == attacked == {"cohen", "wulff"}
    assert all(r.passed for r in rows) and all(r.settings["quick"] for r in rows)

    assert main(["report", str(store), "--out", str(tmp_path / "after")]) == 0
    after = _sanity(tmp_path / "after")["audit"]
    assert after["status"] == "pass" and "(quick)" in after["summary"]
    appendix = (tmp_path / "after" / "appendix.md").read_text()
    assert "cohen (l2): " in appendix and "trials" in appendix and "broken" in appendix


def test_an_unsound_certifier_fails_the_audit_of_a_config(tmp_path, capsys, double_cohen):
    cfg = tmp_path / "c.toml"
    cfg.write_text(CONFIG.format(certifiers=f'["cohen", "{double_cohen}"]'))
    out = tmp_path / "audit"
    assert main(["audit", str(cfg), "--quick", "--out", str(out), "--quiet"]) == 3
    printed = capsys.readouterr().out
    failed = [line for line in printed.splitlines() if line.startswith("FAIL")]
    assert failed and all(double_cohen in line for line in failed)
    assert any(line.startswith(f"FAIL statistical {double_cohen}") for line in failed)

    store = out / "t.sqlite"
    assert main(["report", str(store), "--out", str(tmp_path / "rep")]) == 0
    row = _sanity(tmp_path / "rep")["audit"]
    assert row["status"] == "fail" and int(row["affected_rows"]) > 0


def test_a_missing_target_is_one_clear_error(tmp_path, capsys):
    assert main(["audit", str(tmp_path / "nothing"), "--quick"]) == 2
    assert "no store or config" in capsys.readouterr().err


@pytest.mark.parametrize("flag,kept", [([], True), (["--no-keep-freed-memory"], False)])
def test_the_audit_keeps_freed_host_memory_unless_told_not_to(tmp_path, monkeypatch, flag, kept):
    """Like ``run``, whose sampling it repeats for a config, ``audit`` tells glibc to keep
    freed memory before it starts."""
    import harness.host_memory as host_memory

    calls = []
    monkeypatch.setattr(host_memory, "keep_freed_memory", lambda: calls.append(1) or "kept")
    bad = tmp_path / "c.toml"
    bad.write_text("[run\n")
    assert main(["audit", str(bad), "--quick", "--quiet", "--out", str(tmp_path), *flag]) == 2
    assert calls == ([1] if kept else [])


@pytest.fixture(scope="module")
def quick_store(tmp_path_factory):
    """A run's store for the option tests: three images, Gaussian and Laplace noise."""
    tmp = tmp_path_factory.mktemp("audit")
    (tmp / "c.toml").write_text(CONFIG.format(certifiers='["cohen", "wulff"]'))
    assert main(["run", str(tmp / "c.toml"), "--store", str(tmp / "s.sqlite"), "--quiet"]) == 0
    return tmp / "s.sqlite"


def _audit_rows(store):
    with Store.open_existing(store, readonly=True) as st:
        return st.audit_rows()


@pytest.mark.parametrize("images", ["0", "-2"])
def test_images_below_one_is_refused_before_anything_runs(tmp_path, quick_store, capsys, images):
    before = _audit_rows(quick_store)
    out = tmp_path / "audit"
    argv = ["audit", str(quick_store), "--quick", "--quiet", "--out", str(out), "--images", images]
    assert main(argv) == 2
    assert "--images must be >= 1" in capsys.readouterr().err
    assert not (out / "audit.txt").exists()
    assert _audit_rows(quick_store) == before


def test_images_reaches_the_attack_audit(tmp_path, quick_store, capsys):
    out = tmp_path / "audit"
    argv = ["audit", str(quick_store), "--quick", "--quiet", "--out", str(out), "--images", "3"]
    assert main(argv) in (0, 3)
    attacks = [r for r in _audit_rows(quick_store) if r.audit == "attack"]
    assert attacks and all(r.settings["images"] == 3 for r in attacks)
    assert capsys.readouterr().err == ""


def test_quiet_hides_the_bars_of_the_run_an_audit_of_a_config_makes(tmp_path, capsys):
    cfg = tmp_path / "c.toml"
    cfg.write_text(CONFIG.format(certifiers='["cohen", "wulff"]'))
    assert main(["audit", str(cfg), "--quick", "--quiet", "--out", str(tmp_path / "a")]) == 0
    assert capsys.readouterr().err == ""
    assert (tmp_path / "a" / "audit.txt").exists()
