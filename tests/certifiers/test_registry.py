from importlib.metadata import EntryPoint

import numpy as np
import pytest

import certifiers
from certifiers.base import Certifier
from certifiers.cohen import Cohen
from certifiers.registry import CERTIFIERS
from harness.noise import Gaussian
from smoothbench import registry as generic


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
    with pytest.raises(ValueError, match="unknown certifier 'nope'.*known"):
        certifiers.get("nope")


def test_unknown_option_is_a_clear_error():
    with pytest.raises(
        ValueError, match="'cohen' does not take the option 'budget'; it takes none"
    ):
        certifiers.get("cohen", budget=3)
    assert certifiers.get("functional", mc_samples=4000).options()["mc_samples"] == 4000


def test_a_misspelt_option_is_answered_with_the_options_taken():
    """It gave Python's "got an unexpected keyword argument" only (CLI audit)."""
    with pytest.raises(ValueError) as err:
        certifiers.get("functional", mc_sampels=4000)
    assert str(err.value) == (
        "certifier 'functional' does not take the option 'mc_sampels'; did you mean "
        "'mc_samples'? it takes: ['mc_alpha', 'mc_grid', 'mc_samples', 'mc_seed']"
    )


def test_a_certifier_taking_any_keyword_is_given_them():
    @certifiers.register("takes-any-option")
    class TakesAny(Cohen):
        def __init__(self, **options):
            self.given = options

    try:
        assert certifiers.get("takes-any-option", anything=1).given == {"anything": 1}
    finally:
        certifiers.CERTIFIERS.unregister("takes-any-option")


def test_entry_point_plugins_register(monkeypatch):
    ep = EntryPoint(name="half-cohen", value=f"{__name__}:HalfCohen", group="x")
    monkeypatch.setattr(
        generic, "entry_points", lambda group: [ep] if group == CERTIFIERS.group else []
    )
    try:
        CERTIFIERS.load_plugins(force=True)
        assert "half-cohen" in certifiers.available()
        c = certifiers.get("half-cohen")
        noise = Gaussian(1.0, 4)
        ref = certifiers.get("cohen").radius(noise, np.array([0.9]))
        assert np.allclose(c.radius(noise, np.array([0.9])), 0.5 * ref)
    finally:
        CERTIFIERS.unregister("half-cohen")


def test_a_broken_plugin_warns_and_leaves_the_builtins(monkeypatch):
    ep = EntryPoint(name="broken", value="no_such_module_here:Thing", group="x")
    monkeypatch.setattr(
        generic, "entry_points", lambda group: [ep] if group == CERTIFIERS.group else []
    )
    with pytest.warns(generic.PluginWarning, match="'broken'.*was not loaded"):
        CERTIFIERS.load_plugins(force=True)
    assert "broken" not in certifiers.available() and "cohen" in certifiers.available()


def test_register_rejects_non_certifiers_and_duplicates():
    with pytest.raises(TypeError):
        certifiers.register("thing")(object)
    with pytest.raises(ValueError, match="already registered"):
        certifiers.register("cohen")(HalfCohen)


def test_registering_the_same_class_again_is_not_an_error(plugins):
    """A notebook cell run twice defines a new class with the same qualified name."""

    def define():
        class Rerun(HalfCohen):
            pass

        Rerun.__qualname__ = "Rerun"
        return Rerun

    first, second = define(), define()
    assert first is not second
    plugins.certifier("rerun", first)
    plugins.certifier("rerun", second)
    assert type(certifiers.get("rerun")) is second


class SecondName(HalfCohen):
    """Registered by a decorator, then named otherwise by an entry point."""


def test_one_class_under_a_second_name_is_refused(monkeypatch, plugins):
    """Its name attribute would follow the last registration: ``list`` would show both
    names and the store would record the second."""
    plugins.certifier("second-name", SecondName)
    with pytest.raises(ValueError, match="already registered as the certifier 'second-name'"):
        CERTIFIERS.add("other-name", SecondName)
    ep = EntryPoint(name="other-name", value=f"{__name__}:SecondName", group="x")
    monkeypatch.setattr(
        generic, "entry_points", lambda group: [ep] if group == CERTIFIERS.group else []
    )
    with pytest.warns(generic.PluginWarning, match="'other-name'.*one name"):
        CERTIFIERS.load_plugins(force=True)
    assert "other-name" not in certifiers.available()
    assert certifiers.get("second-name").name == "second-name"
