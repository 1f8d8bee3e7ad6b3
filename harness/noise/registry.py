"""The registry of noise families: ``@register_noise``, ``from_spec`` and the entry-point
group ``smoothbench.noises`` for third-party families.

Registration checks that a family states everything a run uses (``harness.noise.base``):
no abstract method left, a ``scale_param`` that names a constructor parameter, a ``dim``
parameter, and every constructor parameter stored under its own name (``params()``).
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from typing import Any

from harness.noise.base import Noise
from harness.noise.source import (
    is_plugin,
    is_unread,
    own_file_digest,
    remember_source,
    running_source,
)
from smoothbench.registry import Registry
from smoothbench.safe_names import family_name_fault

ENTRY_POINT_GROUP = "smoothbench.noises"


def validate_family(cls: type[Noise]) -> None:
    """Raise ``TypeError`` naming what a noise family lacks."""
    where = f"noise family {cls.family!r} ({cls.__module__}.{cls.__qualname__})"
    if inspect.isabstract(cls):
        missing = ", ".join(sorted(cls.__abstractmethods__))
        raise TypeError(f"{where} does not implement {missing}")
    params = cls.constructor_params()
    if "dim" not in params:
        raise TypeError(f"{where}: the constructor must take the dimension as 'dim'")
    scale = getattr(cls, "scale_param", None)
    if not isinstance(scale, str) or scale not in params:
        raise TypeError(
            f"{where} must name its scale parameter in the class attribute 'scale_param' "
            f"(one of its constructor parameters {list(params)}), got {scale!r}"
        )
    for example in cls.example_params:
        if not isinstance(example, dict) or set(example) - set(params):
            raise TypeError(f"{where}: example_params must be dicts of constructor parameters")
    remember_source(cls)  # the code that runs, whatever its file holds later


NOISES: Registry[Noise] = Registry(
    "noise family",
    Noise,
    ENTRY_POINT_GROUP,
    name_attribute="family",
    validate=validate_family,
    name_fault=family_name_fault,
)


def register_noise(family: str):
    """Class decorator: register a noise family under ``family`` (constructible from its
    spec, listed by ``noise_families``, usable in configs)."""
    return NOISES.register(family)


def noise_families() -> list[str]:
    """Names of the registered noise families, built-in and plugin."""
    return NOISES.names()


def noise_class(family: str) -> type[Noise]:
    """The class registered for a noise family."""
    return NOISES.get(family)


def family_source(family: str) -> str | None:
    """The digest of the code of a plugin noise family (``harness.noise.source``); None
    for a built-in family."""
    cls = noise_class(family)
    return running_source(cls) if is_plugin(cls) else None


def source_change(
    family: str, recorded: Mapping[str, Any] | None, required: bool = False
) -> str | None:
    """Why counts of ``family`` cannot be taken as drawn by the code registered now: its
    source differs from the one ``recorded`` (a store's ``noise_sources``) holds for it
    (the sha256 of the class's own file, as stores recorded it before bases counted,
    still matches), or could not be read then or now; with ``required``, also where
    nothing is recorded for a plugin family. None where they agree, or the family is built
    in."""
    now = family_source(family)
    if now is None:
        return None
    before = (recorded or {}).get(family)
    if before is None:
        if not required:
            return None
        return (
            f"noise family {family!r}: the store does not record the source of the plugin "
            "its counts were sampled with (written before smoothbench recorded it), so "
            "they cannot be told to be of this law; sample them again into a new store"
        )
    if before == now:
        return None
    if is_unread(before) or is_unread(now):
        when = "when its counts were sampled" if is_unread(before) else "here"
        return (
            f"noise family {family!r}: the source of its plugin could not be read {when} (a "
            "class made without a file, by exec or in a notebook cell with no method of "
            "its own, say), so its counts cannot be told to be "
            "of this law; define the family in a file (a plugin) and sample it again"
        )
    if before == own_file_digest(noise_class(family)):
        return None
    return (
        f"noise family {family!r}: its plugin's source differs from the one its counts "
        f"were sampled with (stored {before[:12]}, now {now[:12]}), so the same spec may "
        "be another law; restore the plugin as it was"
    )


def rebuild_noise(spec: Mapping[str, Any] | None) -> Noise | None:
    """Rebuild a stored noise; None when there is no spec or its family is not registered
    here (a plugin not loaded), or the spec does not fit it."""
    if spec is None:
        return None
    try:
        return from_spec(dict(spec))
    except (ValueError, TypeError):
        return None


def from_spec(spec: dict[str, Any]) -> Noise:
    """Rebuild a noise from ``Noise.spec()`` (as stored in a run's database)."""
    if not isinstance(spec, dict) or "family" not in spec:
        raise ValueError(f"a noise spec is a dict with a 'family' key, got {spec!r}")
    params = spec.get("params", {})
    if not isinstance(params, dict):
        raise ValueError(f"the 'params' of a noise spec must be a dict, got {params!r}")
    cls = noise_class(spec["family"])
    try:
        return cls(**params)
    except TypeError as err:
        raise ValueError(f"noise spec {spec!r} does not fit {cls.__name__}: {err}") from None
