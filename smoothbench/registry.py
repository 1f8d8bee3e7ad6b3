"""One generic registry for every plugin kind: certifiers, noise families, sanity checks.

A registry maps names to classes. Built-ins register with a class decorator::

    CERTIFIERS = Registry("certifier", Certifier, "smoothbench.certifiers", "name")

    @CERTIFIERS.register("cohen")
    class Cohen(Certifier): ...

Third-party packages register through the registry's entry-point group (in their
``pyproject.toml``: ``[project.entry-points."smoothbench.certifiers"] mine =
"mypkg.module:Mine"``); entry points are loaded the first time a registry is read.

Registering the same class again under the same name is not an error: a notebook cell
run twice defines a new class object with the same module and qualified name, which
replaces the old one. Another class under a taken name is refused, and so is one class
under a second name.
"""

from __future__ import annotations

import sys
import warnings
from collections.abc import Callable, Iterable, Iterator
from importlib.metadata import entry_points
from typing import Generic, TypeVar

from smoothbench.names import unknown_name
from smoothbench.safe_names import shown_name_fault

T = TypeVar("T")
_UNSET = object()


_REGISTRIES: list[Registry] = []


def registries() -> list[Registry]:
    """Every registry made (certifiers, noise families, sanity checks, checkpoint
    formats, ...), in the order they were made."""
    return list(_REGISTRIES)


def _where(cls: type) -> str:
    """``module.Class``, or ``Class in FILE`` for a class of a plugin file loaded by hand
    (whose module name is made up: ``smoothbench.plugins``)."""
    module = sys.modules.get(cls.__module__)
    path = getattr(module, "__file__", None)
    if cls.__module__.startswith("smoothbench_plugin_") and path:
        return f"{cls.__qualname__} in {path}"
    return f"{cls.__module__}.{cls.__qualname__}"


class PluginWarning(UserWarning):
    """A third-party plugin could not be loaded or would shadow a registered one."""


def _same_definition(a: type, b: type) -> bool:
    return a is b or (a.__module__, a.__qualname__) == (b.__module__, b.__qualname__)


class Registry(Generic[T]):
    """Name -> plugin class for one plugin kind.

    ``kind`` names the kind in messages; ``base`` is the class every plugin subclasses;
    ``group`` is the entry-point group for third-party plugins; ``name_attribute`` is the
    class attribute set to the registered name (``name`` for certifiers, ``family`` for
    noises); ``validate`` checks a class before it is registered and raises ``TypeError``
    naming what it lacks; ``name_fault`` says what keeps a name from being registered
    (``smoothbench.safe_names.shown_name_fault`` unless given: every name is shown in the
    reports).
    """

    def __init__(
        self,
        kind: str,
        base: type[T],
        group: str,
        name_attribute: str = "name",
        validate: Callable[[type[T]], None] | None = None,
        name_fault: Callable[[object], str | None] = shown_name_fault,
    ) -> None:
        self.kind = kind
        self._name_fault = name_fault
        self.base = base
        self.group = group
        self.name_attribute = name_attribute
        self._validate = validate
        self._classes: dict[str, type[T]] = {}
        self._plugins_loaded = False
        _REGISTRIES.append(self)

    # registration ---------------------------------------------------------------------
    def register(self, name: str) -> Callable[[type[T]], type[T]]:
        """Class decorator registering the class under ``name``."""
        self._check_name(name)

        def decorate(cls: type[T]) -> type[T]:
            self.add(name, cls)
            return cls

        return decorate

    def add(self, name: str, cls: type[T]) -> None:
        """Register ``cls`` under ``name`` (see the module docstring for re-registration)."""
        self._check_name(name)
        if not (isinstance(cls, type) and issubclass(cls, self.base)):
            raise TypeError(f"{cls!r} is not a subclass of {self.base.__name__}")
        old = self._classes.get(name)
        if old is not None and not _same_definition(old, cls):
            raise ValueError(f"{self.kind} {name!r} is already registered by {_where(old)}")
        other = next((n for n, c in self._classes.items() if c is cls and n != name), None)
        if other is not None:  # its name attribute would follow the last registration
            raise ValueError(
                f"{_where(cls)} is already registered as the {self.kind} "
                f"{other!r}; a class has one name (an entry point must give the name its "
                "decorator gives)"
            )
        before = cls.__dict__.get(self.name_attribute, _UNSET)
        setattr(cls, self.name_attribute, name)
        if self._validate is not None:
            try:
                self._validate(cls)
            except BaseException:  # a refused class keeps the name it had
                if before is _UNSET:
                    delattr(cls, self.name_attribute)
                else:
                    setattr(cls, self.name_attribute, before)
                raise
        self._classes[name] = cls

    def unregister(self, name: str) -> None:
        """Remove ``name`` (for tests and notebooks); unknown names are ignored."""
        self._classes.pop(name, None)

    def _check_name(self, name: object) -> None:
        """A name typed on command lines and written into every report (``name_fault``)."""
        if (fault := self._name_fault(name)) is not None:
            raise ValueError(f"{self.kind} name {name!r}: {fault}")

    # plugins --------------------------------------------------------------------------
    def load_plugins(self, *, force: bool = False) -> None:
        """Load the entry points of ``group`` (once, unless ``force``). A plugin that
        fails to import, or whose name is taken by another class, is skipped with a
        ``PluginWarning``; it never breaks the built-ins."""
        if self._plugins_loaded and not force:
            return
        self._plugins_loaded = True
        for ep in entry_points(group=self.group):
            try:
                cls = ep.load()
                self.add(ep.name, cls)
            except Exception as err:  # a broken plugin must not break the tool
                warnings.warn(
                    f"{self.kind} plugin {ep.name!r} ({ep.value}) from the "
                    f"entry-point group {self.group!r} was not loaded: {err}",
                    PluginWarning,
                    stacklevel=2,
                )

    # reading --------------------------------------------------------------------------
    def names(self) -> list[str]:
        """Every registered name, built-in and plugin, sorted."""
        self.load_plugins()
        return sorted(self._classes)

    def get(self, name: str) -> type[T]:
        """The class registered under ``name``; a clear ``ValueError`` otherwise."""
        self.load_plugins()
        if not isinstance(name, str) or name not in self._classes:
            raise ValueError(self.unknown(name))
        return self._classes[name]

    def unknown(self, name: object, extra: Iterable[str] = ()) -> str:
        """The message for a name not registered: the closest known ones (and ``extra``
        names, such as ``all``), and how a plugin's name gets registered."""
        from smoothbench.plugins import missing_hint  # it imports this module

        return (
            f"{unknown_name(self.kind, name, [*self.names(), *extra])} (a plugin's? give "
            f"its file with --plugin FILE.py, or install its package: entry-point group "
            f"{self.group!r}){missing_hint()}"
        )

    def __contains__(self, name: object) -> bool:
        self.load_plugins()
        return name in self._classes

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def items(self) -> list[tuple[str, type[T]]]:
        return [(name, self._classes[name]) for name in self.names()]
