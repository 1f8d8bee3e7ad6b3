"""Undoing what plugins loaded by hand (``smoothbench.plugins``) leave behind: the classes
and report columns their files register, the record of what was loaded and noted, and
their modules. The ``clean_registries`` fixture does it once a test; a hypothesis test
whose examples may load plugins (the command-line fuzz: ``--plugin cuda`` imports the
installed ``cuda`` package) does it once an example, so that no later test sees them."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator


@contextlib.contextmanager
def plugins_undone() -> Iterator[None]:
    from certifiers.registry import CERTIFIERS
    from harness.noise.registry import NOISES
    from reports.columns import COLUMNS
    from reports.sanity.registry import SANITY_CHECKS
    from smoothbench import plugins as by_hand

    registries = (CERTIFIERS, NOISES, SANITY_CHECKS)
    names = [set(r.names()) for r in registries]
    columns = list(COLUMNS)
    loaded, modules = dict(by_hand._LOADED), set(sys.modules)
    recorded = list(by_hand._RECORDED)
    registered = dict(by_hand._RECORDED_REGISTRATIONS)
    other = set(by_hand._OTHER_REGISTRATIONS)
    try:
        yield
    finally:
        by_hand._RECORDED[:] = recorded
        by_hand._RECORDED_REGISTRATIONS.clear()
        by_hand._RECORDED_REGISTRATIONS.update(registered)
        by_hand._OTHER_REGISTRATIONS.clear()
        by_hand._OTHER_REGISTRATIONS.update(other)
        COLUMNS[:] = columns
        for registry, before in zip(registries, names, strict=True):
            for name in set(registry.names()) - before:
                registry.unregister(name)
        by_hand._LOADED.clear()
        by_hand._LOADED.update(loaded)
        for name in set(sys.modules) - modules:
            if name.startswith("smoothbench_plugin_"):
                del sys.modules[name]
