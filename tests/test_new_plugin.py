"""A contributor's three tasks, each shown with a plugin defined inside this test:

- a new noise family is one class (here i.i.d. logistic noise); the conformance kit, the
  registry-wide checks and the config pick it up with no other file changed;
- a certifier learns it by one table entry (here a sound l1 certificate for ``wulff``);
- a new sanity check is one registered class, and the report runs it.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy import stats

import certifiers
from certifiers.base import Certificate
from certifiers.testing import check_certifier, registered_certifier_checks
from certifiers.wulff import Wulff
from harness.config import parse
from harness.noise import CoordinateNoise, noise_class
from harness.noise.params import check_dim, check_positive_finite
from harness.noise.testing import NOISE_PROPERTIES, check_noise, registered_noise_checks
from harness.runner import build_noise
from reports.sanity import PASS, CheckResult, SanityCheck, SanityInputs, run_checks
from tests.reports._report_synth import winner_store


class ToyLogistic(CoordinateNoise):
    """I.i.d. logistic coordinates, ``q(x) ~ exp(-x/s) / (1 + exp(-x/s))^2``:
    ``z_i = s logit(Phi(G_i))``; ``E||z||^2 = d pi^2 s^2 / 3``."""

    scale_param = "scale"

    def __init__(self, scale: float, dim: int) -> None:
        self.scale = check_positive_finite("scale", scale)
        self.dim = check_dim(dim)

    def coordinate_law(self):
        return stats.logistic(scale=self.scale)

    def coordinate_map(self, G: torch.Tensor) -> torch.Tensor:
        g = G.to(torch.float64)
        return self.scale * (torch.special.log_ndtr(g) - torch.special.log_ndtr(-g))

    def coordinate_log_prob(self, x: torch.Tensor) -> torch.Tensor:
        a = x.abs() / self.scale
        return -a - 2.0 * torch.log1p(torch.exp(-a))

    def second_moment(self) -> float:
        return self.dim * math.pi**2 * self.scale**2 / 3.0


def lipschitz_l1(certifier, noise, p: np.ndarray) -> np.ndarray:
    """The log density is (1/s)-Lipschitz in l1, so ``P_delta(A) >= 1 - e^{eps/s}(1 - p)``
    (pure differential privacy): certified while ``eps <= -s ln(2(1 - p))``."""
    with np.errstate(divide="ignore"):
        return -noise.scale * np.log(2.0 * (1.0 - p))


@pytest.fixture
def toy(plugins, monkeypatch):
    plugins.noise("toy_logistic", ToyLogistic)
    # the one table entry that teaches `wulff` the new family
    monkeypatch.setitem(Wulff.certificates, ("toy_logistic", "l1"), Certificate(lipschitz_l1))
    return ToyLogistic


def test_the_conformance_kit_accepts_the_new_family(toy):
    for noise in toy.examples(5) + [toy(0.3, 64)]:
        check_noise(noise)


def test_the_registry_wide_checks_pick_it_up(toy):
    noise_ids = [i for i, check in registered_noise_checks(dims=(5,)) if "toy_logistic" in i]
    assert len(noise_ids) == len(NOISE_PROPERTIES)  # one example x every property
    for i, check in registered_noise_checks(dims=(5,)):
        if "toy_logistic" in i:
            check()
    cert = [(i, c) for i, c in registered_certifier_checks(dims=(3,)) if "toy_logistic" in i]
    assert {i.split("-")[0] for i, _ in cert} == {"wulff"}
    assert {i.rsplit("-", 1)[1] for i, _ in cert} == {
        "abstains", "monotone", "vectorized", "bad_input", "picklable", "sound"
    }  # fmt: skip
    for _, check in cert:
        check()


def test_the_certifier_certifies_it_soundly_at_dimension_64(toy):
    c = certifiers.get("wulff")
    noise = toy.matched(0.25, 64)
    assert c.supports(noise, "l1") and not c.supports(noise, "l2")
    result = check_certifier(c, [noise], norms=("l1",), max_examples=10, mc_samples=100_000)
    assert "axis" in result.soundness[(noise.name, "l1")]


def test_the_config_builds_it_matched(toy):
    cfg = parse(
        {
            "run": {"dataset": "digits", "arch": "mlp", "train_sigmas": [0.25]},
            "noises": [{"family": "toy_logistic"}],
        }
    )
    noise = build_noise(cfg.noises[0], 0.25, 64)
    assert isinstance(noise, ToyLogistic) and noise_class("toy_logistic") is ToyLogistic
    assert math.isclose(noise.second_moment(), 64 * 0.25**2, rel_tol=1e-12)


def test_a_new_sanity_check_is_one_registered_class(plugins, tmp_path):
    class EveryCertificateHasAnImage(SanityCheck):
        order = 1

        def run(self, inputs: SanityInputs, context) -> CheckResult:
            n = len(inputs.outcomes)
            return CheckResult(self.name, "every certificate has an image", PASS, f"{n} rows")

    plugins.check("has-image", EveryCertificateHasAnImage)
    with winner_store(tmp_path / "s.sqlite", n_images=20) as store:
        results = run_checks(SanityInputs.from_store(store))
    assert results[0].name == "has-image" and results[0].summary == "60 rows"
