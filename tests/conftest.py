"""Test-wide settings: a private cache folder, headless plots, hypothesis profiles."""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "default", deadline=None, max_examples=60, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))
os.environ.setdefault("MPLBACKEND", "Agg")


@pytest.fixture(scope="session", autouse=True)
def _private_cache(tmp_path_factory):
    """Keep models and radius tables built by tests out of the user's cache."""
    old = os.environ.get("SMOOTHBENCH_CACHE")
    os.environ["SMOOTHBENCH_CACHE"] = str(tmp_path_factory.mktemp("smoothbench-cache"))
    yield
    if old is None:
        os.environ.pop("SMOOTHBENCH_CACHE", None)
    else:
        os.environ["SMOOTHBENCH_CACHE"] = old
