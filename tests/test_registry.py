from importlib.metadata import EntryPoint

import numpy as np
import pytest

import certifiers
from certifiers import registry
from certifiers.base import Certifier
from harness.noise import Gaussian


class HalfCohen(Certifier):
    """A test-only plugin: half of Cohen's radius (still sound)."""

    def supports(self, noise, norm):
        return isinstance(noise, Gaussian) and norm == "l2"

    def _radius(self, noise, p, norm):
        return 0.5 * certifiers.get("cohen").radius(noise, p, norm=norm)


def test_builtin_names():
    assert "cohen" in certifiers.available()
    assert certifiers.get("cohen").name == "cohen"


def test_unknown_name_is_a_clear_error():
    with pytest.raises(ValueError, match="unknown certifier 'nope'.*available"):
        certifiers.get("nope")


def test_entry_point_plugins_register(monkeypatch):
    ep = EntryPoint(name="half-cohen", value=f"{__name__}:HalfCohen", group="x")
    monkeypatch.setattr(registry, "entry_points", lambda group: [ep])
    monkeypatch.setattr(registry, "_plugins_loaded", False)
    try:
        assert "half-cohen" in certifiers.available()
        c = certifiers.get("half-cohen")
        noise = Gaussian(1.0, 4)
        ref = certifiers.get("cohen").radius(noise, np.array([0.9]))
        assert np.allclose(c.radius(noise, np.array([0.9])), 0.5 * ref)
    finally:
        registry._REGISTRY.pop("half-cohen", None)


def test_register_rejects_non_certifiers_and_duplicates():
    with pytest.raises(TypeError):
        registry.register("thing")(object)
    with pytest.raises(ValueError):
        registry.register("cohen")(HalfCohen)
