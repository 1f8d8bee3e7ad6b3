"""Certifiers: turning evidence (counts, or a model and an input box) into certificates.

    import certifiers
    c = certifiers.get("cohen")
    c.radius(noise, p_lower, norm="l2")

Built-in certifiers register on import of this package; third-party ones through the
entry-point group ``smoothbench.certifiers``.
"""

from certifiers import cohen as _cohen  # noqa: F401  (registers)
from certifiers import fdiv_hockey_stick as _fdiv_hockey_stick  # noqa: F401  (registers)
from certifiers import fdiv_kl as _fdiv_kl  # noqa: F401  (registers)
from certifiers import fdiv_renyi as _fdiv_renyi  # noqa: F401  (registers)
from certifiers import functional as _functional  # noqa: F401  (registers)
from certifiers import wulff as _wulff  # noqa: F401  (registers)
from certifiers.base import NORMS, Certifier, UnsupportedError
from certifiers.registry import ENTRY_POINT_GROUP, available, get, register

__all__ = [
    "ENTRY_POINT_GROUP",
    "NORMS",
    "Certifier",
    "UnsupportedError",
    "available",
    "get",
    "register",
]
