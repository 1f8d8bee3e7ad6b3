"""The rules names follow where they reach file names and reports.

- A name that becomes a file name (``run.name``: ``out/<name>.sqlite``; a model's given
  name) holds letters, digits and ``. _ + = -`` only, starts with a letter or digit, and
  has at most 100 characters (``SAFE_NAME``).
- A name written into the reports (a registered certifier, noise family or check; an
  imported certifier) may hold any printable character, spaces and other scripts
  included (``σ-cohen``), but none that Markdown, HTML, LaTeX or matplotlib read as markup
  (``MARKUP``: a ``|`` splits a table row, ``*`` or ``<tag>`` renders as emphasis or a
  tag, ``$`` starts matplotlib's math text, where an unknown symbol fails the whole
  report), no ``_`` at a word's edge (emphasis), no line break (it adds a table row), and
  no space at either end (``shown_name_fault``). A noise family's name is also written in
  noise texts (``family:key=value``): letters, digits and ``_`` (``family_name_fault``)."""

from __future__ import annotations

import re

SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+=-]{0,99}")

#: ``SAFE_NAME``, as an error message states it.
SAFE_NAME_RULE = (
    "a name must start with a letter or digit and hold only letters, digits and "
    ". _ + = - (at most 100 characters)"
)

#: Characters a shown name may not hold: markup in Markdown, HTML, LaTeX or matplotlib.
MARKUP = frozenset("|$`*<>\\~[]")
#: ``_`` that is not between two letters or digits: Markdown emphasis (``my _fast_ cert``);
#: within a word (``generalized_gaussian``) it is a letter there.
EMPHASIS_UNDERSCORE = re.compile(r"(?<![^\W_])_|_(?![^\W_])")
#: A noise family's name: written in noise texts, ``family:key=value`` and
#: ``family(key=value,...)`` (``harness.noise.written``), so letters, digits and ``_``.
FAMILY_NAME = re.compile(r"[^\W_]\w*")


def is_safe_name(name: object) -> bool:
    """Whether ``name`` is a string that follows ``SAFE_NAME``."""
    return isinstance(name, str) and SAFE_NAME.fullmatch(name) is not None


def shown_name_fault(name: object) -> str | None:
    """What keeps ``name`` from being written into the reports as it is (a phrase), or
    None where nothing does."""
    if not isinstance(name, str) or not name.strip():
        return "a name is a non-empty string"
    if name != name.strip():
        return "a name has no space at either end"
    if not name.isprintable():
        return "a name is one line of printable characters"
    if markup := sorted(MARKUP & set(name)):
        return (
            f"a name holds none of {' '.join(sorted(MARKUP))} (markup in the reports' "
            f"Markdown, HTML, LaTeX or plots), and this one holds {' '.join(markup)}"
        )
    if EMPHASIS_UNDERSCORE.search(name):
        return "a name holds _ only between two letters or digits (else Markdown emphasis)"
    return None


def family_name_fault(name: object) -> str | None:
    """``shown_name_fault`` for a noise family, which is also written in noise texts:
    letters, digits and ``_``, starting with a letter or digit."""
    if (fault := shown_name_fault(name)) is not None:
        return fault
    if not FAMILY_NAME.fullmatch(str(name)):
        return (
            "a noise family's name is written in noise texts (family:key=value, "
            "family(key=value)), so it holds letters, digits and _ only"
        )
    return None
