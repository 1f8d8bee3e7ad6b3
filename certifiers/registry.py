"""The certifier registry: decorator registration, plus third-party plugins through the
entry-point group ``smoothbench.certifiers`` (each entry point names a Certifier class).
"""

from __future__ import annotations

from importlib.metadata import entry_points

from certifiers.base import Certifier

ENTRY_POINT_GROUP = "smoothbench.certifiers"

_REGISTRY: dict[str, type[Certifier]] = {}
_plugins_loaded = False


def register(name: str):
    """Class decorator: ``@register("cohen") class Cohen(Certifier): ...``."""
    if not isinstance(name, str) or not name:
        raise ValueError(f"a certifier name is a non-empty string, got {name!r}")

    def decorate(cls: type[Certifier]) -> type[Certifier]:
        if not (isinstance(cls, type) and issubclass(cls, Certifier)):
            raise TypeError(f"{cls!r} is not a Certifier subclass")
        if name in _REGISTRY and _REGISTRY[name] is not cls:
            raise ValueError(f"certifier {name!r} is already registered by {_REGISTRY[name]}")
        cls.name = name
        _REGISTRY[name] = cls
        return cls

    return decorate


def _load_plugins() -> None:
    global _plugins_loaded
    if _plugins_loaded:
        return
    _plugins_loaded = True
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        cls = ep.load()
        if ep.name not in _REGISTRY:
            register(ep.name)(cls)


def available() -> list[str]:
    """Names of every registered certifier, built-in and plugin, sorted."""
    _load_plugins()
    return sorted(_REGISTRY)


def get(name: str) -> Certifier:
    """A fresh instance of the certifier registered under ``name``."""
    _load_plugins()
    if name not in _REGISTRY:
        raise ValueError(f"unknown certifier {name!r}; available: {available()}")
    return _REGISTRY[name]()
