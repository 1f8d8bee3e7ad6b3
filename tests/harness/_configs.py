"""Small run configs shared by tests of the runner and the executors."""

from __future__ import annotations

from harness.config import Config, parse


def two_models() -> Config:
    """Two digits MLPs (named ``a`` and ``b``), three test images, Gaussian and Laplace
    noise certified by ``wulff``: a run of a few seconds."""
    return parse(
        {
            "run": {"name": "two", "dataset": "digits", "seed": 4, "n_test": 3, "n0": 10,
                    "n": 200},
            "models": [{"recipe": "mlp", "sigma0": 0.25, "name": "a"},
                       {"recipe": "mlp", "sigma0": 0.5, "name": "b"}],
            "noises": [{"family": "gaussian"}, {"family": "laplace"}],
            "certify": {"certifiers": ["wulff"], "alpha": [0.001]},
        }
    )  # fmt: skip
