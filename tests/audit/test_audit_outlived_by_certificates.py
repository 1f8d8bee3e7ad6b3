"""The report's audit check speaks of the certificates in the store: once a certifier is
certified again with other options (other radii), the audit of its earlier certificates
no longer passes for them."""

from __future__ import annotations

from harness import runner
from harness.audit.attack import AttackSettings
from harness.audit.run import attack_rows, load_models
from harness.certify import certify_store
from harness.config import parse
from harness.store import Store
from reports.sanity.audit import check_audit
from reports.sanity.base import PASS, SanityInputs


def config():
    return parse(
        {
            "run": {"name": "a", "dataset": "digits", "seed": 1, "n_test": 4, "n0": 10,
                    "n": 400, "batch_size": 400},
            "models": [{"recipe": "mlp", "sigma0": 0.25}],
            "noises": [{"family": "mixed_norm", "k": 4}],
            "certify": {"certifiers": ["functional"], "norms": ["linf"], "alpha": [0.001],
                        "options": {"functional": {"mc_samples": 2000, "mc_grid": 20}}},
            "report": {"radii": {"linf": [0.0, 0.01]}},
        }
    )  # fmt: skip


def radii(store):
    return store.query("SELECT image, radius FROM certificates ORDER BY image")


def test_a_recertified_certifier_is_not_reported_as_audited(tmp_path):
    path = runner.run(config(), tmp_path / "s.sqlite", progress=False)
    with Store(path) as st:
        models, data = load_models(st)
        st.put_audit(attack_rows(st, models, data, AttackSettings.quick(), progress=False))
        audited = radii(st)
    assert check_audit(SanityInputs.from_store(path)).status == PASS
    with Store(path) as st:
        options = {"functional": {"mc_samples": 400_000, "mc_grid": 400}}
        certify_store(st, ["functional"], ["linf"], [0.001], progress=False, options=options)
        assert radii(st) != audited  # other certificates now, or the test says nothing
    assert check_audit(SanityInputs.from_store(path)).status != PASS
