"""Plugins given by hand: a Python file (``my_noise.py``) or an importable module
(``mypkg.noise``) whose import registers noises, certifiers, sanity checks or checkpoint
formats through their decorators. The command line's ``--plugin`` and a run config's
``run.plugins`` load them before anything reads a registry; an installed package can
instead declare entry points, which the registries load themselves.

A file is imported under a module name of its own (``smoothbench_plugin_<stem>_<hash>``,
the hash of its absolute path), so that two files of the same name do not collide and a
file loaded twice is imported once. ``loaded()`` lists what this process loaded, in
order, for the run manifest and for Ray's workers, which load the same list.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import re
import sys
import warnings
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from smoothbench.registry import registries

_LOADED: dict[str, str] = {}  # plugin as loaded (an absolute path or a module) -> module name
_RECORDED: list[str] = []  # plugins the runs of the stores opened here loaded
_RECORDED_REGISTRATIONS: dict[str, list[str]] = {}  # what each of them registered
_OTHER_REGISTRATIONS: set[str] = set()  # modules that registered other than classes


#: A plugin file is imported as the module ``smoothbench_plugin_<stem>_<digest of its path>``.
_FILE_MODULE_PREFIX = "smoothbench_plugin_"
_FILE_MODULE = re.compile(rf"^{_FILE_MODULE_PREFIX}(?P<stem>.+)_[0-9a-f]{{10}}$")


def stable_module_name(module: str) -> str:
    """``module``, or for a plugin file's module ``plugin file <stem>.py``: the same
    file moved to another folder is the same code (its module's name holds a digest of
    where it lies)."""
    found = _FILE_MODULE.match(module)
    return f"plugin file {found['stem']}.py" if found else module


def _is_file(plugin: str) -> bool:
    return plugin.endswith(".py") or "/" in plugin or "\\" in plugin


def load_plugin(plugin: str, relative_to: str | Path | None = None) -> str:
    """Import ``plugin``: a ``.py`` file (a relative path is taken from ``relative_to``, a
    config's folder, or else the working directory) or a module name. Returns it as
    loaded: the file's absolute path, or the module name. ``FileNotFoundError`` for a
    missing file; ``ValueError`` naming the plugin for one that does not import."""
    if not isinstance(plugin, str) or not plugin.strip():
        raise ValueError(f"a plugin is a .py file or a module name, got {plugin!r}")
    plugin = plugin.strip()
    if _is_file(plugin):
        path = Path(plugin).expanduser()
        if not path.is_absolute() and relative_to is not None:
            path = Path(relative_to) / path
        path = path.resolve()
        key = str(path)
        if key in _LOADED:
            return key
        if not path.is_file():
            raise FileNotFoundError(f"plugin file {plugin} not found (looked at {path})")
        digest = hashlib.sha256(key.encode()).hexdigest()[:10]
        name = f"{_FILE_MODULE_PREFIX}{path.stem}_{digest}"
        spec = importlib.util.spec_from_file_location(name, path)
        if spec is None or spec.loader is None:
            raise ValueError(f"plugin file {plugin} cannot be imported as a Python module")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module  # pickle finds its classes by this name
        try:
            spec.loader.exec_module(module)
        except Exception as err:
            del sys.modules[name]
            raise ValueError(
                f"plugin file {plugin} failed to import: {type(err).__name__}: {err}"
            ) from err
        if not _registers(module):
            warnings.warn(
                f"plugin file {plugin} registered nothing: no class in it carries a "
                "registry's decorator (@register, @register_noise, @register_check, ...), "
                "and it adds no report column (register_column)",
                stacklevel=2,
            )
        _LOADED[key] = name
        return key
    if plugin in _LOADED:
        return plugin
    try:
        importlib.import_module(plugin)
    except ModuleNotFoundError as err:
        raise ValueError(
            f"plugin module {plugin!r} cannot be imported ({err}); a file is given by its "
            "path, ending in .py"
        ) from err
    except Exception as err:
        raise ValueError(
            f"plugin module {plugin!r} failed to import: {type(err).__name__}: {err}"
        ) from err
    if not _registers(sys.modules[plugin], package=True):
        warnings.warn(
            f"plugin module {plugin} registered nothing: no class in it (or in a module of "
            "its package) carries a registry's decorator (@register, @register_noise, "
            "@register_check, ...)",
            stacklevel=2,
        )
    _LOADED[plugin] = plugin
    return plugin


def record_registration(module: str) -> None:
    """Note that code of ``module`` registered something outside the class registries (a
    report column: ``reports.columns.register_column``), so that a plugin file doing only
    that is not said to register nothing."""
    _OTHER_REGISTRATIONS.add(module)


def _registers(module: object, package: bool = False) -> bool:
    """Whether a class defined in ``module`` (with ``package``, or in a module under it)
    is registered in one of the registries, or the module registered something else
    (``record_registration``)."""
    name = getattr(module, "__name__", None)
    modules = [cls.__module__ for r in registries() for _, cls in r._classes.items()]
    modules += _OTHER_REGISTRATIONS
    return any(m == name or (package and m.startswith(f"{name}.")) for m in modules)


def load_plugins(plugins: Iterable[str], relative_to: str | Path | None = None) -> list[str]:
    """``load_plugin`` for each, in order; returns them as loaded."""
    return [load_plugin(p, relative_to) for p in plugins]


def loaded() -> list[str]:
    """The plugins this process loaded by hand, in order (absolute paths, module names)."""
    return list(_LOADED)


def with_loaded(recorded: Iterable[str], but: Iterable[str] = ()) -> list[str]:
    """A store's record of its plugins (its manifest's ``plugins``) with those this process
    loaded added after it: what a command that writes to the store records, so that the
    plugins behind every row it holds stay named (a ``certify --plugin`` after the run, a
    run resumed without a plugin an earlier session used). Not the loaded plugins in
    ``but`` (a command records them once a row of theirs is written)."""
    out = [p for p in recorded if isinstance(p, str)]
    leave = set(but)
    return out + [p for p in _LOADED if p not in out and p not in leave]


def registrations(plugin: str) -> list[str]:
    """What a plugin this process loaded registered, as ``kind:name`` (``certifier:mine``,
    ``noise family:student_t``): the classes of its module, or of its package's."""
    module = _LOADED.get(plugin)
    if module is None:
        return []
    return sorted(
        f"{r.kind}:{name}"
        for r in registries()
        for name, cls in r._classes.items()
        if cls.__module__ == module or cls.__module__.startswith(f"{module}.")
    )


def with_registrations(recorded: Mapping[str, Any] | None) -> dict[str, list[str]]:
    """A store's record of what its plugins registered (its manifest's
    ``plugin_registrations``) with this process's plugins' added: so that a plugin file
    moved or renamed since is not asked for, where what it registered is registered now
    (``not_loaded``)."""
    out = {p: list(v) for p, v in (recorded or {}).items() if isinstance(v, list)}
    return {**out, **{p: registrations(p) for p in _LOADED}}


def _registered(entry: str) -> bool:
    kind, _, name = entry.partition(":")
    return any(r.kind == kind and name in r._classes for r in registries())


def note_recorded(recorded: Iterable[str], registered: Mapping[str, Any] | None = None) -> None:
    """Note the plugins a store was written with (its manifest's ``plugins``) and what
    they registered (its ``plugin_registrations``, where recorded)."""
    for plugin in recorded:
        if isinstance(plugin, str) and plugin not in _RECORDED:
            _RECORDED.append(plugin)
    _RECORDED_REGISTRATIONS.update(with_registrations(registered))


def not_loaded(recorded: Iterable[str], registered: Mapping[str, Any] | None = None) -> list[str]:
    """Those of the ``recorded`` plugins (a manifest's ``plugins``) this process has not
    loaded, but for those whose every registration (``registered``: the manifest's
    ``plugin_registrations``) another file or module made here: the same plugin moved."""
    done = {p: v for p, v in (registered or {}).items() if isinstance(v, list) and v}
    lost = [
        p
        for p in recorded
        if p not in _LOADED and not (p in done and all(_registered(e) for e in done[p]))
    ]
    # one plugin recorded at two places (moved, or copied): the same registrations, which
    # cannot be loaded twice, so only the later one is asked for
    return [
        p
        for i, p in enumerate(lost)
        if not (p in done and any(set(done[p]) == set(done.get(q, ())) for q in lost[i + 1 :]))
    ]


def missing() -> list[str]:
    """The plugins the runs of the stores opened here loaded and this process has not."""
    return not_loaded(_RECORDED, _RECORDED_REGISTRATIONS)


def missing_hint() -> str:
    """``; the store was written with ... (give ... with --plugin)``, or ``""``: for the
    message of a name this process does not know."""
    lost = missing()
    if not lost:
        return ""
    options = " ".join(f"--plugin {p}" for p in lost)
    return f"; the store was written with {', '.join(lost)}, not loaded here ({options})"
