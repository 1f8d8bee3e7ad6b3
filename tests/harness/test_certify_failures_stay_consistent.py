"""The manifest's record of certification failures never contradicts the certificates
stored beside it: a certify stopped (Ctrl-C) after it certified a group that had failed
before kept the failure (the report said the group's certificates were missing, beside
them), and a certifier that now fails on a group kept the certificates of its earlier
code there, beside the failure."""

from __future__ import annotations

import numpy as np
import pytest

from certifiers import Certificate, Certifier
from certifiers.cohen import Cohen
from harness import runner
from harness.certify import CertificationError, CertificationInterrupted, certify_store
from harness.config import parse
from harness.store import Store
from reports.completeness import missing_group_warnings

FAILING = {"now": True, "linf": False}


def _radius(certifier, noise, p):
    if FAILING["now"]:
        return np.full(np.shape(p), np.nan)  # a plugin's bug: refused
    return Cohen.certificates[("gaussian", "l2")].radius(certifier, noise, p)


def _linf_radius(certifier, noise, p):
    if FAILING["linf"]:
        return np.full(np.shape(p), np.nan)
    return Cohen.certificates[("gaussian", "linf")].radius(certifier, noise, p)


class Flaky(Certifier):
    certificates = {
        ("gaussian", "l2"): Certificate(_radius),
        ("gaussian", "linf"): Certificate(_linf_radius),
    }


def _sampled_store(path, certify: dict | None = None):
    """A store of 3 digits images under a Gaussian and a Laplace noise, counts only; its
    config's ``[certify]`` table ``certify`` (cohen, l2, 0.001 by default)."""
    cfg = parse({
        "run": {"name": "t", "dataset": "digits", "seed": 1, "n_test": 3, "n0": 10, "n": 200,
                "device": "cpu"},
        "models": [{"recipe": "mlp", "sigma0": 0.25}],
        "noises": [{"family": "gaussian"}, {"family": "laplace"}],
        "certify": certify or {"certifiers": ["cohen"], "norms": ["l2"], "alpha": [0.001]},
    })  # fmt: skip
    runner.run(cfg, path, progress=False, certify=False)
    return path


@pytest.fixture
def flaky(plugins, monkeypatch):
    """The plugin ``flaky`` registered (failing until ``FAILING["now"]`` is False)."""
    monkeypatch.setitem(FAILING, "now", True)
    monkeypatch.setitem(FAILING, "linf", False)
    plugins.certifier("flaky", Flaky)


@pytest.fixture
def sampled(tmp_path, flaky):
    return _sampled_store(tmp_path / "s.sqlite")


def _certify(path, norms=("l2",), alphas=(0.001,), names=("flaky",)) -> None:
    with Store(path) as st:
        certify_store(st, list(names), list(norms), list(alphas), progress=False)


def _state(path, norm: str = "l2") -> tuple[int, list]:
    with Store.open_existing(path, readonly=True) as st:
        query = "SELECT COUNT(*) FROM certificates WHERE certifier = 'flaky' AND norm = ?"
        (have,) = st.query(query, (norm,))[0]
        return have, st.get_manifest("certification_failures") or []


def _stopped_at(monkeypatch, call: int) -> None:
    """Ctrl-C as ``put_certificates`` is called the ``call``-th time (one per group)."""
    real, calls = Store.put_certificates, []

    def stopping(self, *args, **kwargs):
        calls.append(1)
        if len(calls) == call:
            raise KeyboardInterrupt
        return real(self, *args, **kwargs)

    monkeypatch.setattr(Store, "put_certificates", stopping)


@pytest.mark.parametrize(("stopped_at", "certified"), [(1, 0), (2, 3)],
                         ids=["before-the-gaussian-group", "after-it"])  # fmt: skip
def test_a_stopped_certify_records_the_failures_of_what_it_wrote(
    sampled, monkeypatch, stopped_at, certified
):
    with pytest.raises(CertificationError):
        _certify(sampled)
    assert _state(sampled)[0] == 0 and len(_state(sampled)[1]) == 1
    monkeypatch.setitem(FAILING, "now", False)  # mended
    _stopped_at(monkeypatch, stopped_at)
    with pytest.raises(CertificationInterrupted):
        _certify(sampled)
    have, failures = _state(sampled)
    assert have == certified
    assert bool(failures) == (certified == 0), failures


def test_a_certifier_failing_now_leaves_no_rows_of_its_earlier_code(sampled, monkeypatch):
    monkeypatch.setitem(FAILING, "now", False)
    _certify(sampled, names=("flaky", "cohen"))
    assert _state(sampled) == (3, [])
    monkeypatch.setitem(FAILING, "now", True)  # the plugin edited: it fails here now
    with pytest.raises(CertificationError):
        _certify(sampled, names=("flaky", "cohen"))
    have, failures = _state(sampled)
    assert have == 0 and len(failures) == 1, (have, failures)
    with Store.open_existing(sampled, readonly=True) as st:  # the others' rows stay
        assert st.query("SELECT COUNT(*) FROM certificates WHERE certifier = 'cohen'") == [(3,)]


def test_a_failure_at_one_norm_keeps_the_other_norms_rows_and_drops_its_own(sampled, monkeypatch):
    """Rows of the norm it fails on go at every alpha (the record names no alpha); the
    norm it certifies keeps its rows, written anew."""
    monkeypatch.setitem(FAILING, "now", False)
    _certify(sampled, norms=("l2", "linf"), alphas=(0.01,))
    _certify(sampled, norms=("l2", "linf"), alphas=(0.001,))
    assert _state(sampled, "l2")[0] == _state(sampled, "linf")[0] == 6
    monkeypatch.setitem(FAILING, "linf", True)
    with pytest.raises(CertificationError, match="against linf"):
        _certify(sampled, norms=("l2", "linf"), alphas=(0.001,))
    (have_l2, failures), (have_linf, _) = _state(sampled, "l2"), _state(sampled, "linf")
    assert have_l2 == 6 and have_linf == 0, (have_l2, have_linf)
    assert [(f["certifier"], f["norm"]) for f in failures] == [("flaky", "linf")]


def test_the_report_says_whether_a_failed_groups_certificates_lack_or_predate_it():
    """Also for a record of every norm, as stores before per-norm records hold them."""
    for norm in ({"norm": "l2"}, {}):
        failure = [{"model": "m", "noise": "n", "certifier": "c", **norm, "error": "x"}]
        lacking = missing_group_warnings([("m", "n", "c", "l2", 0.001)], "s.sqlite", failure)
        kept = missing_group_warnings([], "s.sqlite", failure)
        assert "its certificates there are missing" in lacking[0]
        assert "made before it failed" in kept[0] and "missing" not in kept[0]


def _report_lines(path) -> list[str]:
    """The report's lines for the store's missing and failed groups, as ``report`` makes
    them."""
    from harness.certificate_groups import expected_groups

    with Store.open_existing(path, readonly=True) as st:
        rows = st.query("SELECT DISTINCT model, noise, certifier, norm, alpha FROM certificates")
        held = {(m, nz, c, nm, float(a)) for m, nz, c, nm, a in rows}
        missing = expected_groups(st) - held
        failures = st.get_manifest("certification_failures") or []
    return missing_group_warnings(missing, path, failures, stored={g[:4] for g in held})


def test_a_failure_at_one_norm_outlives_a_certify_of_another(sampled, monkeypatch):
    """A later ``certify --norm l2`` succeeds, but never tried linf: the record of linf's
    failure stays (it was cleared, and the report sent users to a command that fails)."""
    monkeypatch.setitem(FAILING, "now", False)
    monkeypatch.setitem(FAILING, "linf", True)
    with pytest.raises(CertificationError):
        _certify(sampled, norms=("l2", "linf"))
    _certify(sampled, norms=("l2",))
    failures = _state(sampled)[1]
    assert [(f["certifier"], f.get("norm")) for f in failures] == [("flaky", "linf")]
    monkeypatch.setitem(FAILING, "linf", False)  # mended: a certify of linf clears it
    _certify(sampled, norms=("linf",))
    assert _state(sampled, "linf") == (3, [])


def test_the_report_names_the_failed_norm_and_completes_the_others(tmp_path, flaky, monkeypatch):
    """The failed norm's certificates were removed: the report says they are missing (it
    said they predated the failure); a group of another norm that certifies fine gets
    its command (it was hidden behind the other norm's failure)."""
    table = {"certifiers": ["flaky"], "norms": ["l2", "linf"], "alpha": [0.001, 0.01]}
    path = _sampled_store(tmp_path / "s.sqlite", table)
    monkeypatch.setitem(FAILING, "now", False)
    monkeypatch.setitem(FAILING, "linf", True)
    with pytest.raises(CertificationError):
        _certify(path, norms=("l2", "linf"), alphas=(0.001,))
    lines = _report_lines(path)
    (failed,) = [line for line in lines if line.startswith("certification failed: flaky")]
    assert "against linf" in failed and "are missing" in failed, failed
    assert any("alpha = 0.01" in line and "--norm l2" in line for line in lines), lines


def test_a_failure_whose_certificates_remain_says_they_predate_it(sampled, monkeypatch):
    """A noise-level failure (a plugin changed since the sampling) removes nothing."""
    import harness.certify

    monkeypatch.setitem(FAILING, "now", False)
    _certify(sampled)
    monkeypatch.setattr(harness.certify, "source_change", lambda *a, **k: "source differs")
    with pytest.raises(CertificationError):
        _certify(sampled)
    assert _state(sampled)[0] == 3
    (failed,) = [line for line in _report_lines(sampled) if "flaky" in line]
    assert "made before it failed" in failed and "against l2" in failed, failed


def test_a_record_of_every_norm_is_cleared_once_the_certifier_certifies(sampled, monkeypatch):
    """A store written before failures were kept per norm holds records with no norm."""
    monkeypatch.setitem(FAILING, "now", False)
    gaussian = "gaussian(dim=64,sigma=0.25)"
    with Store(sampled) as st:
        (model,) = {m for (m,) in st.query("SELECT DISTINCT model FROM counts")}
        old = {"model": model, "noise": gaussian, "certifier": "flaky", "error": "old"}
        st.put_manifest({"certification_failures": [old]})
    _certify(sampled)
    assert _state(sampled) == (3, [])


def test_a_stop_just_after_a_group_is_written_keeps_its_record(tmp_path, flaky, monkeypatch):
    """Ctrl-C after a group's transaction committed, before the loop took note of it,
    with a noise-level failure of the group before it pending: the stop wrote the
    failures as they were before that group, bringing back the failure the group had
    just cleared, beside its certificates."""
    import harness.certify

    cfg = parse({
        "run": {"name": "t", "dataset": "digits", "seed": 1, "n_test": 3, "n0": 10, "n": 200,
                "device": "cpu"},
        "models": [{"recipe": "mlp", "sigma0": 0.25}, {"recipe": "mlp", "sigma0": 0.5}],
        "noises": [{"family": "gaussian"}],
        "certify": {"certifiers": ["cohen"], "norms": ["l2"], "alpha": [0.001]},
    })  # fmt: skip
    path = tmp_path / "s.sqlite"
    runner.run(cfg, path, progress=False, certify=False)
    with pytest.raises(CertificationError):
        _certify(path)  # both models' groups fail
    assert len(_state(path)[1]) == 2
    monkeypatch.setitem(FAILING, "now", False)  # mended
    calls = []

    def first_group_changed(*args, **kwargs):
        calls.append(1)
        return "source differs" if len(calls) == 1 else None

    monkeypatch.setattr(harness.certify, "source_change", first_group_changed)
    real = Store.put_certificates

    def stopping_after(self, *args, **kwargs):
        real(self, *args, **kwargs)
        raise KeyboardInterrupt

    monkeypatch.setattr(Store, "put_certificates", stopping_after)
    with pytest.raises(CertificationInterrupted):
        _certify(path)
    have, failures = _state(path)
    assert have == 3
    assert [f["error"] for f in failures] == ["ValueError: source differs"], failures
