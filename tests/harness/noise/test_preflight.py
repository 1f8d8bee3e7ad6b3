"""A family that does not write ``x + transform(G)`` into ``out``: the sampler reads
``out`` alone, so such a family must be refused (or, where its result is right but
returned elsewhere, copied in), never counted on a stale buffer."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from harness import runner
from harness.config import parse
from harness.noise import Gaussian, Noise
from harness.noise.preflight import check_perturb
from harness.sampler import count_predictions


class _Plugin(Noise):
    """A Gaussian written as a plugin author might (no fused ``perturb``), with one
    mistake each below."""

    family = "plugin_gaussian"
    scale_param = "sigma"

    def __init__(self, sigma: float, dim: int) -> None:
        self.sigma, self.dim = sigma, dim

    def transform(self, G, out=None):
        return torch.mul(G, self.sigma, out=out)

    def log_prob(self, z):
        return -(z * z).sum(dim=-1) / (2.0 * self.sigma**2)

    def second_moment(self):
        return self.dim * self.sigma**2


class IgnoresOut(_Plugin):
    def transform(self, G, out=None):
        return G * self.sigma  # right values, a new tensor


class DropsLast(_Plugin):
    def transform(self, G, out=None):
        return G[:, :-1] * self.sigma


class Flat(_Plugin):
    def transform(self, G, out=None):
        return (G * self.sigma).reshape(-1)


class LeavesOutUnwritten(_Plugin):
    def perturb(self, x, G, out):
        return out


class ForgetsTheInput(_Plugin):
    def perturb(self, x, G, out):
        return torch.mul(G.G, self.sigma, out=out)


class ReturnsAnother(_Plugin):
    def perturb(self, x, G, out):
        return x + self.transform(G.G)


def _counts(noise):
    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(6, 3)).eval()
    torch.manual_seed(0)
    for p in model.parameters():
        torch.nn.init.normal_(p)
    x = torch.rand(6)
    return count_predictions(model, x, [noise], 500, seed=1, index=2, stream=1, batch_size=128)


def test_a_transform_that_ignores_out_is_copied_in_and_counts_as_the_noise():
    ours, right, theirs = Gaussian(0.7, 6), _Plugin(0.7, 6), IgnoresOut(0.7, 6)
    check_perturb(right)
    check_perturb(theirs)
    np.testing.assert_array_equal(_counts(right), _counts(ours))
    np.testing.assert_array_equal(_counts(theirs), _counts(ours))


@pytest.mark.parametrize("cls", [DropsLast, Flat])
def test_a_transform_of_the_wrong_shape_is_refused_by_perturb(cls):
    noise = cls(0.7, 6)
    with pytest.raises(ValueError, match=r"transform returned .* must return \(rows, dim\)"):
        _counts(noise)
    with pytest.raises(ValueError, match=r"transform returned"):
        check_perturb(noise)


@pytest.mark.parametrize(
    ("cls", "problem"),
    [
        (LeavesOutUnwritten, "left out unwritten"),
        (ForgetsTheInput, "out differs from x \\+ transform"),
        (ReturnsAnother, "returned another tensor than out"),
    ],
)
def test_a_perturb_that_does_not_fill_out_is_refused(cls, problem):
    with pytest.raises(ValueError, match=f"perturb\\(x, G, out\\) must write.*{problem}"):
        check_perturb(cls(0.7, 6))


def test_every_built_in_example_passes():
    from harness.noise import noise_class, noise_families

    for family in noise_families():
        for noise in noise_class(family).examples(64):
            noise.prepare("cpu")
            check_perturb(noise)


def test_a_run_refuses_such_a_noise_before_sampling(tmp_path, monkeypatch):
    """The run checks every noise of a model before its first image: nothing is
    sampled with a family that would be counted on a stale buffer."""
    cfg = parse(
        {
            "run": {"name": "t", "dataset": "digits", "arch": "mlp", "train_sigmas": [0.25],
                    "seed": 3, "n_test": 2, "n0": 20, "n": 100},
            "noises": [{"family": "gaussian"}],
            "certify": {"certifiers": ["cohen"]},
        }
    )  # fmt: skip
    monkeypatch.setattr(Gaussian, "perturb", LeavesOutUnwritten.perturb)
    with pytest.raises(ValueError, match="left out unwritten"):
        runner.run(cfg, tmp_path / "s.sqlite", progress=False)
    assert not (tmp_path / "s.sqlite").exists()  # refused before the store is made
