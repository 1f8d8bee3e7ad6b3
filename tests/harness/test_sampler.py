import math

import numpy as np
import pytest
import torch
from scipy.stats import norm

import certifiers
from certifiers.bounds import clopper_pearson_lower
from harness import certify_counts, count_predictions, sample_counts
from harness.noise import Gaussian


def mlp(dim=64, classes=10, seed=0):
    torch.manual_seed(seed)
    return torch.nn.Sequential(
        torch.nn.Flatten(), torch.nn.Linear(dim, 32), torch.nn.ReLU(), torch.nn.Linear(32, classes)
    )


class Hyperplane(torch.nn.Module):
    """Binary linear classifier: class 1 iff w.x + b > 0 (logits [0, w.x + b])."""

    def __init__(self, w: torch.Tensor, b: float):
        super().__init__()
        self.w = torch.nn.Parameter(w.clone(), requires_grad=False)
        self.b = b

    def forward(self, x):
        s = x.flatten(1) @ self.w + self.b
        return torch.stack([torch.zeros_like(s), s], dim=1)


@pytest.mark.parametrize("batch", [1, 256, 1000, 1237, 5000])
def test_counts_do_not_depend_on_batch_size(batch):
    model = mlp()
    x = torch.rand(1, 8, 8)
    noise = Gaussian(0.5, 64)
    ref = sample_counts(model, x, noise, 3000, seed=11, batch_size=3000, index=4)
    got = sample_counts(model, x, noise, 3000, seed=11, batch_size=batch, index=4)
    assert got.dtype == np.int64 and got.shape == (10,)
    assert ref.sum() == 3000
    np.testing.assert_array_equal(got, ref)


def test_noises_share_draws_and_streams_are_separate():
    model = mlp()
    x = torch.rand(64)
    a, b = Gaussian(0.25, 64), Gaussian(0.5, 64)
    joint = count_predictions(model, x, [a, b], 2000, seed=3, index=1)
    np.testing.assert_array_equal(joint[0], sample_counts(model, x, a, 2000, seed=3, index=1))
    np.testing.assert_array_equal(joint[1], sample_counts(model, x, b, 2000, seed=3, index=1))
    cc = certify_counts(model, x, [a], 100, 2000, seed=3, index=1)
    assert cc.selection.sum() == 100 and cc.estimation.sum() == 2000


def test_linear_classifier_certificate_is_sound_and_tight():
    """The smoothed hyperplane classifier's exact robust radius is the distance to the
    hyperplane (Cohen et al. 2019, linear case); certificates must never exceed it and
    should come within a few percent of it at large n."""
    dim, sigma = 64, 0.25
    gen = torch.Generator().manual_seed(0)
    w = torch.randn(dim, generator=gen)
    x = torch.rand(dim, generator=gen)
    distance = 0.5
    b = float(distance * w.norm() - w @ x)  # w.x + b = 0.5 ||w||: x lies 0.5 from the plane
    model = Hyperplane(w, b)
    noise = Gaussian(sigma, dim)
    n = 200_000
    counts = sample_counts(model, x, noise, n, seed=5, batch_size=10_000)
    assert counts[1] / n == pytest.approx(norm.cdf(distance / sigma), abs=3e-3)
    c = certifiers.get("cohen")
    for alpha in (0.001, 0.01):
        p_lower = clopper_pearson_lower(int(counts[1]), n, alpha)
        r2 = c.radius(noise, p_lower, norm="l2")
        assert r2 <= distance
        assert r2 >= 0.97 * distance
        # l-inf and l1 distances to the plane: |w.x + b| / ||w||_1 and / ||w||_inf
        margin = distance * float(w.norm())
        assert c.radius(noise, p_lower, norm="linf") <= margin / float(w.abs().sum())
        assert c.radius(noise, p_lower, norm="l1") <= margin / float(w.abs().max())


def test_nan_logits_are_refused():
    class NaNModel(torch.nn.Module):
        def forward(self, x):
            return torch.full((x.shape[0], 3), math.nan)

    with pytest.raises(ValueError, match="NaN"):
        sample_counts(NaNModel(), torch.zeros(4), Gaussian(1.0, 4), 10, seed=0)


def test_shape_the_model_rejects_is_a_clear_error():
    model = torch.nn.Linear(10, 3)
    with pytest.raises(ValueError, match="rejected inputs of shape"):
        sample_counts(model, torch.zeros(2, 5), Gaussian(1.0, 10), 10, seed=0)


@pytest.mark.parametrize("n", [0, -5, 2.5, True])
def test_bad_n(n):
    with pytest.raises(ValueError):
        sample_counts(mlp(), torch.zeros(64), Gaussian(1.0, 64), n, seed=0)


def test_noise_dim_must_match_input():
    with pytest.raises(ValueError, match="dim"):
        sample_counts(mlp(), torch.zeros(64), Gaussian(1.0, 63), 10, seed=0)
