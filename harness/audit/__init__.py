"""Audits of the certificates themselves: are they ever false?

- ``statistical``: base classifiers whose smoothed classifier is known exactly (linear
  classifiers under centrally symmetric noise), certified many times with independent
  seeds; the observed rate of false certificates is tested against alpha plus the
  certifier's own ``confidence_spent`` (a one-sided binomial test).
- ``attack``: PGD on the smoothed classifier of a run's models inside the certified
  ball, the smoothed prediction re-estimated with fresh draws at the point found; for the
  deterministic certifiers (IBP, CROWN), PGD on the base network inside the certified
  l-inf box, where any success is a bug.
- ``summary``: the per-certifier table both audits print; their rows
  (``harness.store.AuditRow``) go to the store's ``audit`` table, which the report's
  sanity section lists.

Only the command line (``smoothbench audit``) and the tests import this package.
"""
