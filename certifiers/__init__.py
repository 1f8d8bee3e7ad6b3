"""Certifiers: turning evidence (counts, or a model and an input box) into certificates.

    import certifiers
    c = certifiers.get("cohen")
    c.radius(noise, p_lower, norm="l2")

Built-in certifiers register on import of this package; third-party ones through the
entry-point group ``smoothbench.certifiers``. Each family of certifiers is a subpackage
(``functional``, ``wulff``, ``fdiv``); each certifier states what it certifies as a table
of (noise family, norm) entries (``certifiers.base``). The deterministic certifiers
(``ibp``, ``crown``: ``certifiers.deterministic``) bound a model over an input box
instead; they have no table entries and ``deterministic = True``.
"""

from certifiers import cohen as _cohen  # noqa: F401  (registers)
from certifiers import deterministic as _deterministic  # noqa: F401  (registers)
from certifiers import fdiv as _fdiv  # noqa: F401  (registers)
from certifiers import functional as _functional  # noqa: F401  (registers)
from certifiers import wulff as _wulff  # noqa: F401  (registers)
from certifiers.base import NORMS, Certificate, Certifier, UnsupportedError
from certifiers.registry import (
    CERTIFIERS,
    ENTRY_POINT_GROUP,
    available,
    get,
    is_deterministic,
    register,
)

__all__ = [
    "CERTIFIERS",
    "ENTRY_POINT_GROUP",
    "NORMS",
    "Certificate",
    "Certifier",
    "UnsupportedError",
    "available",
    "get",
    "is_deterministic",
    "register",
]
