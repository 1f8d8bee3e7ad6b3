"""A certifier that fails (a plugin's negative or NaN radius, say) costs only its own
certificates: the others are written, and the failure is one clear error naming the
certifier, its module, the noise, the norm and the offending value."""

from __future__ import annotations

import numpy as np
import pytest

from certifiers.base import Certificate, Certifier
from harness.certify import CertificationError, certify_store
from harness.cli import main
from harness.noise import Gaussian
from harness.store import Store
from tests.reports._report_synth import DIM, add_counts, new_store

CONFIG = {"certify": {"certifiers": ["cohen"], "norms": ["l2"], "alpha": [0.001]}}


class NegativeRadius(Certifier):
    certificates = {("gaussian", "l2"): Certificate(lambda c, noise, p: -np.ones_like(p))}


class NaNRadius(Certifier):
    certificates = {("gaussian", "l2"): Certificate(lambda c, noise, p: np.full_like(p, np.nan))}


def _store(path):
    store = new_store(path, 6, {"m": 0.25}, config=CONFIG)
    labels = np.arange(6) % 10
    for sigma in (0.25, 0.5):
        add_counts(store, "m", Gaussian(sigma, DIM), labels, labels, [990] * 6)
    return store


@pytest.mark.parametrize(("cls", "value"), [(NegativeRadius, "-1.0"), (NaNRadius, "nan")])
def test_the_others_are_written_and_the_failure_is_named(tmp_path, plugins, cls, value):
    plugins.certifier("broken-plugin", cls)
    store = _store(tmp_path / "s.sqlite")
    with pytest.raises(CertificationError) as caught:
        certify_store(store, ["cohen", "broken-plugin"], ["l2"], [0.001, 0.01], progress=False)
    message = str(caught.value)
    assert "2 certification(s) failed" in message  # one per noise group
    assert "broken-plugin" in message and __name__ in message
    assert f"invalid radius {value}" in message and "against l2" in message
    certified = set(store.query("SELECT DISTINCT certifier, noise, alpha FROM certificates"))
    noises = {r.noise for r in store.count_rows()}
    assert certified == {("cohen", n, a) for n in noises for a in (0.001, 0.01)}
    assert caught.value.written == 2 * 2 * 6
    store.close()


def test_the_cli_exits_2_with_one_line_and_keeps_the_others(tmp_path, plugins, capsys):
    plugins.certifier("broken-plugin", NegativeRadius)
    _store(tmp_path / "s.sqlite").close()
    path = str(tmp_path / "s.sqlite")
    argv = ["certify", path, "--certifier", "cohen", "--certifier", "broken-plugin", "--quiet"]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "internal error" not in err
    assert "broken-plugin" in err and "were not written" in err
    with Store(path) as store:
        assert store.query("SELECT DISTINCT certifier FROM certificates") == [("cohen",)]


class RaisesKeyError(Certifier):
    certificates = {("gaussian", "l2"): Certificate(lambda c, noise, p: {}["scale"] * p)}


def test_any_exception_is_named_with_its_certifier_module_noise_and_norm(tmp_path, plugins):
    plugins.certifier("keyerror-plugin", RaisesKeyError)
    store = _store(tmp_path / "s.sqlite")
    with pytest.raises(CertificationError) as caught:
        certify_store(store, ["keyerror-plugin"], ["l2"], [0.001], progress=False)
    assert (
        f"certifier 'keyerror-plugin' ({__name__}) on gaussian(dim={DIM},sigma=0.25) against "
        "l2, model m: KeyError: 'scale'"
    ) in str(caught.value)
    store.close()


class MendedLater(Certifier):
    """Fails while ``broken`` is set, then gives Cohen's radius."""

    broken = True

    @staticmethod
    def radius_of(c, noise, p):
        if MendedLater.broken:
            return -np.ones_like(p)
        from scipy.special import ndtri

        return noise.sigma * ndtri(p)

    certificates = {
        ("gaussian", "l2"): Certificate(lambda c, noise, p: MendedLater.radius_of(c, noise, p))
    }


def test_a_failed_certifier_is_reported_as_failed_until_a_certify_succeeds(
    tmp_path, plugins, monkeypatch
):
    """The manifest keeps each (model, noise, certifier) whose certification failed; the
    report names the failure and its error instead of offering the certify command that
    would fail again, and a later certify that succeeds clears it."""
    from reports.cli import make_report

    plugins.certifier("mended-later", MendedLater)
    monkeypatch.setattr(MendedLater, "broken", True)
    path = tmp_path / "s.sqlite"
    store = new_store(path, 6, {"m": 0.25}, config={
        "certify": {"certifiers": ["cohen", "mended-later"], "norms": ["l2"], "alpha": [0.001]}
    })  # fmt: skip
    labels = np.arange(6) % 10
    for sigma in (0.25, 0.5):
        add_counts(store, "m", Gaussian(sigma, DIM), labels, labels, [990] * 6)
    with pytest.raises(CertificationError):
        certify_store(store, ["cohen", "mended-later"], ["l2"], [0.001], progress=False)
    recorded = store.get_manifest("certification_failures")
    assert sorted(f["noise"] for f in recorded) == sorted(
        Gaussian(s, DIM).name for s in (0.25, 0.5)
    )
    assert all(
        f["certifier"] == "mended-later" and "invalid radius" in f["error"] for f in recorded
    )
    store.close()
    report, _ = make_report(path)
    failed = [w for w in report.warnings if w.startswith("certification failed: mended-later")]
    assert len(failed) == 2 and all("invalid radius -1.0" in w for w in failed)
    assert not [w for w in report.warnings if "--certifier mended-later" in w]
    monkeypatch.setattr(MendedLater, "broken", False)
    with Store(path) as store:
        certify_store(store, ["cohen", "mended-later"], ["l2"], [0.001], progress=False)
        assert store.get_manifest("certification_failures") == []
    report, _ = make_report(path)
    assert not [w for w in report.warnings if w.startswith("certification")]


class FailsOnL1(Certifier):
    """Valid against l2, an invalid (negative) radius against l1."""

    certificates = {
        ("gaussian", "l2"): Certificate(lambda c, noise, p: np.zeros_like(p)),
        ("gaussian", "l1"): Certificate(lambda c, noise, p: -np.ones_like(p)),
    }


def test_a_certifier_failing_on_one_norm_keeps_its_rows_of_the_other(tmp_path, plugins):
    plugins.certifier("fails-on-l1", FailsOnL1)
    store = _store(tmp_path / "s.sqlite")
    with pytest.raises(CertificationError, match="against l1"):
        certify_store(store, ["cohen", "fails-on-l1"], ["l2", "l1"], [0.001], progress=False)
    rows = store.query("SELECT certifier, norm, COUNT(*) FROM certificates GROUP BY 1, 2")
    assert sorted(rows) == [
        ("cohen", "l1", 2 * 6),
        ("cohen", "l2", 2 * 6),
        ("fails-on-l1", "l2", 2 * 6),
    ]  # 2 noises; fmt: skip
    store.close()


def test_the_manifest_keeps_the_options_of_every_certifier_that_ran(tmp_path):
    """Reports rebuild certifiers from the recorded options: each certify adds its own
    and keeps those recorded before."""
    import certifiers

    store = _store(tmp_path / "s.sqlite")
    certify_store(store, ["cohen"], ["l2"], [0.001], progress=False)
    assert store.get_manifest("certifier_options") == {"cohen": certifiers.get("cohen").options()}
    certify_store(store, ["wulff"], ["l2"], [0.001], progress=False)
    assert store.get_manifest("certifier_options") == {
        name: certifiers.get(name).options() for name in ("cohen", "wulff")
    }
    store.close()


def test_an_interrupted_certify_keeps_the_groups_it_finished_and_says_so(tmp_path, monkeypatch):
    """Ctrl-C while the second (model, noise) group is written: the first group's
    certificates stay, the second's are not half written, and the interruption says how
    far it got (the CLI prints it and exits 130)."""
    from harness.certify import CertificationInterrupted
    from tests.interruptions import stop_at_call

    store = _store(tmp_path / "s.sqlite")
    stop_at_call(monkeypatch, store, "put_certificates", 2)
    with pytest.raises(CertificationInterrupted) as stopped:
        certify_store(store, ["cohen"], ["l2"], [0.001, 0.01], progress=False)
    assert (stopped.value.finished, stopped.value.total, stopped.value.written) == (1, 2, 2 * 6)
    assert store.query("SELECT COUNT(DISTINCT noise), COUNT(*) FROM certificates") == [(1, 12)]
    store.close()
