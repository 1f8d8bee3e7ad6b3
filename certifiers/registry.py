"""The certifier registry (``smoothbench.registry.Registry``): decorator registration,
plus third-party plugins through the entry-point group ``smoothbench.certifiers`` (each
entry point names a Certifier class).
"""

from __future__ import annotations

import inspect
from typing import Any

from certifiers.base import Certifier
from smoothbench.names import choices
from smoothbench.registry import Registry

ENTRY_POINT_GROUP = "smoothbench.certifiers"

CERTIFIERS: Registry[Certifier] = Registry("certifier", Certifier, ENTRY_POINT_GROUP, "name")


def register(name: str):
    """Class decorator: ``@register("cohen") class Cohen(Certifier): ...``."""
    return CERTIFIERS.register(name)


def available() -> list[str]:
    """Names of every registered certifier, built-in and plugin, sorted."""
    return CERTIFIERS.names()


def is_deterministic(certifier: str | Certifier | type[Certifier]) -> bool:
    """Whether ``certifier`` (a registered name, a class or an instance) bounds a model
    over an input box (IBP, CROWN: ``deterministic = True``) rather than certifying from
    the counts of a smoothing noise. An unknown name is ``KeyError``/``ValueError`` from
    the registry."""
    cls = CERTIFIERS.get(certifier) if isinstance(certifier, str) else certifier
    return bool(getattr(cls, "deterministic", False))


def get(name: str, **options: Any) -> Certifier:
    """A new instance of the certifier registered under ``name``, built with ``options``
    (e.g. ``get("functional", mc_samples=500_000)``); unknown options are a clear error."""
    cls = CERTIFIERS.get(name)
    init = cls.__init__
    parameters = (  # after self; object's own takes none, whatever its signature says
        [] if init is object.__init__ else list(inspect.signature(init).parameters.values())[1:]
    )
    accepted = [p.name for p in parameters if p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD)]
    takes_any = any(p.kind == p.VAR_KEYWORD for p in parameters)
    unknown = [key for key in options if key not in accepted and not takes_any]
    if unknown:
        raise ValueError(
            f"certifier {name!r} does not take the option {unknown[0]!r}; "
            f"{choices(unknown[0], accepted, 'it takes') if accepted else 'it takes none'}"
        )
    try:
        return cls(**options)
    except TypeError as err:
        raise ValueError(f"certifier {name!r} does not take the options {options}: {err}") from None
