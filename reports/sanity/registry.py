"""The registry of sanity checks (``smoothbench.registry.Registry``): built-ins register
with ``@register_check("name")``; third-party checks through the entry-point group
``smoothbench.sanity``."""

from __future__ import annotations

from reports.sanity.base import SanityCheck
from smoothbench.registry import Registry

ENTRY_POINT_GROUP = "smoothbench.sanity"

SANITY_CHECKS: Registry[SanityCheck] = Registry(
    "sanity check", SanityCheck, ENTRY_POINT_GROUP, "name"
)


def register_check(name: str):
    """Class decorator: register a sanity check (a ``SanityCheck`` subclass)."""
    return SANITY_CHECKS.register(name)
