"""The functional-optimization certifier of Zhang et al. (2020), ``functional``.

- ``certifier``: the certifier and its table of (noise family, norm) pairs;
- ``l2``: the exact Neyman-Pearson bound of the generalized Gaussian (a 1-D integral);
- ``linf``, ``l1``: Monte Carlo Neyman-Pearson tables for the mixed l2/l-inf and the
  generalized Laplace noises;
- ``dual``: the dual view (Theorem 1, Eq. 9), the same bound as a maximum over lambda
  with its accuracy and robustness terms.
"""

from certifiers.functional.certifier import Functional

__all__ = ["Functional"]
