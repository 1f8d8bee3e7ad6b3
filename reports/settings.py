"""The ``[report]`` section of a config, owned by one typed object with its defaults
defined here and nowhere else.

    [report]
    reference = "cohen"                 # the certifier every row is compared with
    radii.l2 = [0.0, 0.25, 0.5, ...]    # the radius grid of each norm's table
    level = 0.05                        # significance level of the marks and headlines

``smoothbench report`` reads the section from the config stored in the run's manifest;
its command-line options override it (``ReportSettings.override``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from smoothbench.names import unknown_name

NORMS = ("l1", "l2", "linf")
DEFAULT_REFERENCE = "cohen"
DEFAULT_LEVEL = 0.05
DEFAULT_RADII: dict[str, tuple[float, ...]] = {
    "l2": (0.0, 0.25, 0.5, 0.75, 1.0, 1.5),
    "l1": (0.0, 0.25, 0.5, 0.75, 1.0, 1.5),
    "linf": (0.0, 0.01, 0.02, 0.04, 0.06, 0.1),
}
_KEYS = ("reference", "radii", "level")


class ReportSettingsError(ValueError):
    """An invalid ``[report]`` setting; the message names the config key."""


def _radius_grid(where: str, values: Any) -> tuple[float, ...]:
    """A sorted radius grid with 0; ``where`` names the source in errors (a config key,
    quoted, or a command-line option)."""
    if not isinstance(values, list | tuple) or not values:
        raise ReportSettingsError(f"{where} must be a non-empty list of radii")
    out = []
    for v in values:
        if isinstance(v, bool) or not isinstance(v, int | float):
            raise ReportSettingsError(f"{where} must hold numbers, got {v!r}")
        if not math.isfinite(v) or v < 0:
            raise ReportSettingsError(f"{where} must hold finite radii >= 0, got {v!r}")
        out.append(float(v))
    grid = tuple(sorted({0.0, *out}))
    for a, b in zip(grid, grid[1:], strict=False):
        if f"{a:g}" == f"{b:g}":  # the columns, their marks and the JSON keys are named so
            raise ReportSettingsError(
                f"{where}: radii {a!r} and {b!r} both print as {a:g}; give radii that differ "
                "in their first six significant digits"
            )
    return grid


def _radii_option(items: Sequence[float | str]) -> dict[str, tuple[float, ...]]:
    """The grids of ``--radii``: numbers give every norm's, ``NORM=R,R,...`` one norm's."""
    common: list[float] = []
    per_norm: dict[str, tuple[float, ...]] = {}
    for item in items:
        text = str(item).strip()
        if "=" in text:
            norm, _, values = text.partition("=")
            norm = norm.strip()
            if norm not in NORMS:
                raise ReportSettingsError(f"--radii {text}: {unknown_name('norm', norm, NORMS)}")
            if norm in per_norm:
                raise ReportSettingsError(
                    f"--radii {text}: {norm}'s grid is given twice; give it once, as {norm}=R,R,..."
                )
            per_norm[norm] = _radius_grid(f"--radii {norm}=", _numbers(text, values.split(",")))
        else:
            common.extend(_numbers(text, [text]))
    out = {norm: _radius_grid("--radii", common) for norm in NORMS} if common else {}
    return {**out, **per_norm}


def _numbers(item: str, texts: Sequence[str]) -> list[float]:
    try:
        return [float(t) for t in texts if t.strip()]
    except ValueError:
        raise ReportSettingsError(
            f"--radii {item}: radii are numbers, or NORM=R,R,... for one norm's grid"
        ) from None


@dataclass(frozen=True)
class ReportSettings:
    """What a report compares and shows.

    ``reference``: the certifier each row is compared with (and, for noises other than
    the Gaussian, the model's Gaussian row of it). ``radii``: the grid of each norm
    (0 always included). ``level``: the significance level. ``alpha``, ``certifiers``,
    ``models``, ``norms``: optional filters (None: everything in the store)."""

    reference: str = DEFAULT_REFERENCE
    radii: Mapping[str, tuple[float, ...]] = field(default_factory=lambda: dict(DEFAULT_RADII))
    level: float = DEFAULT_LEVEL
    alpha: float | None = None
    certifiers: tuple[str, ...] | None = None
    models: tuple[str, ...] | None = None
    norms: tuple[str, ...] | None = None

    @classmethod
    def from_table(cls, table: Mapping[str, Any] | None) -> ReportSettings:
        """Parse a ``[report]`` table (as in a config file), refusing unknown keys and
        bad values with the key named."""
        if table is None:
            table = {}
        if not isinstance(table, Mapping):
            raise ReportSettingsError(f"config section [report] must be a table, got {table!r}")
        table = dict(table)
        for key in table:
            if key not in _KEYS:
                raise ReportSettingsError(unknown_name("config key", key, _KEYS, prefix="report."))
        reference = table.get("reference", DEFAULT_REFERENCE)
        if not isinstance(reference, str) or not reference.strip():
            raise ReportSettingsError(
                f"config key 'report.reference' must name a certifier, got {reference!r}"
            )
        radii = dict(DEFAULT_RADII)
        given = table.get("radii", {})
        if not isinstance(given, Mapping):
            raise ReportSettingsError("config key 'report.radii' must be a table of norms")
        for norm, values in given.items():
            if norm not in NORMS:
                raise ReportSettingsError(
                    f"config key 'report.radii.{norm}': {unknown_name('norm', norm, NORMS)}"
                )
            radii[norm] = _radius_grid(f"config key 'report.radii.{norm}'", values)
        level = table.get("level", DEFAULT_LEVEL)
        if isinstance(level, bool) or not isinstance(level, int | float) or not 0 < level < 1:
            raise ReportSettingsError(
                f"config key 'report.level' must lie in (0, 1), got {level!r}"
            )
        return cls(reference=reference, radii=radii, level=float(level))

    @classmethod
    def from_config(cls, config: Mapping[str, Any] | None) -> ReportSettings:
        """The settings of a whole config document (its ``[report]`` table)."""
        return cls.from_table((config or {}).get("report"))

    def override(
        self,
        *,
        reference: str | None = None,
        radii: Sequence[float | str] | None = None,
        alpha: float | None = None,
        certifiers: Sequence[str] | None = None,
        models: Sequence[str] | None = None,
        norms: Sequence[str] | None = None,
    ) -> ReportSettings:
        """The settings with command-line values (None: keep). ``radii``: numbers set one
        grid for every norm, ``NORM=R,R,...`` items the grid of that norm (l2 and l-inf
        radii differ by about sqrt(d), so one grid seldom suits both)."""
        out = self
        if reference is not None:
            out = replace(out, reference=reference)
        if radii:
            out = replace(out, radii={**out.radii, **_radii_option(radii)})
        if alpha is not None:
            if not 0 < alpha < 1:
                raise ReportSettingsError(f"--alpha must lie in (0, 1), got {alpha!r}")
            out = replace(out, alpha=float(alpha))
        if certifiers:
            out = replace(out, certifiers=tuple(certifiers))
        if models:
            out = replace(out, models=tuple(models))
        if norms:
            bad = [n for n in norms if n not in NORMS]
            if bad:
                raise ReportSettingsError(f"--norm: {unknown_name('norm', bad[0], NORMS)}")
            out = replace(out, norms=tuple(norms))
        return out

    def grid(self, norm: str) -> list[float]:
        """The radius grid of ``norm`` (0 first)."""
        return list(self.radii.get(norm, (0.0,)))
