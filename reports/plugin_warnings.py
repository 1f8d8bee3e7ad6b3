"""Plugins a store was written with (``--plugin`` or ``run.plugins`` of its runs,
``--plugin`` of its certifications: the manifest's ``plugins``) that the report's process
has not loaded: their noises and certifiers are not registered here, so the sanity checks
cannot run them, and the report says how to."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from smoothbench import plugins


def missing_plugin_warnings(manifest: Mapping[str, Any]) -> list[str]:
    """One line per plugin the store recorded and this process did not load."""
    return [
        f"the store was written with the plugin {p}, which this report did not load: rows "
        f"of its noises or certifiers cannot be checked here (give it with --plugin {p})"
        for p in plugins.not_loaded(
            manifest.get("plugins") or [], manifest.get("plugin_registrations")
        )
    ]
