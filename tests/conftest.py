"""Test-wide settings: a private cache folder, headless plots, hypothesis profiles."""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, settings

from tests.plugin_state import plugins_undone

settings.register_profile(
    "default", deadline=None, max_examples=60, suppress_health_check=[HealthCheck.too_slow]
)
# a longer search for rare counterexamples: HYPOTHESIS_PROFILE=deep
settings.register_profile("deep", parent=settings.get_profile("default"), max_examples=2000)
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


class _Plugins:
    """Registers test-only plugins and removes them when the test ends."""

    def __init__(self) -> None:
        self._added: list[tuple[object, str]] = []

    def certifier(self, name: str, cls: type) -> type:
        from certifiers.registry import CERTIFIERS

        CERTIFIERS.add(name, cls)
        self._added.append((CERTIFIERS, name))
        return cls

    def noise(self, family: str, cls: type) -> type:
        from harness.noise.registry import NOISES

        NOISES.add(family, cls)
        self._added.append((NOISES, family))
        return cls

    def check(self, name: str, cls: type) -> type:
        from reports.sanity.registry import SANITY_CHECKS

        SANITY_CHECKS.add(name, cls)
        self._added.append((SANITY_CHECKS, name))
        return cls

    def remove_all(self) -> None:
        for registry, name in reversed(self._added):
            registry.unregister(name)


@pytest.fixture
def plugins():
    """``plugins.certifier(name, cls)``, ``plugins.noise(family, cls)``,
    ``plugins.check(name, cls)``: registered for this test only."""
    p = _Plugins()
    yield p
    p.remove_all()


@pytest.fixture()
def clean_registries():
    """For plugins loaded by hand (``smoothbench.plugins``): what a test's plugin files
    register, the record of what was loaded, and their modules, undone after it
    (``tests.plugin_state.plugins_undone``)."""
    with plugins_undone():
        yield
