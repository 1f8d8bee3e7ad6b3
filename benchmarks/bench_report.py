"""How the report's comparisons and the store's writes scale with images and rows, with
no model: `pytest benchmarks/bench_report.py -o python_files='bench_*.py'`.

- ``test_comparisons``: ``reports.significance.comparisons`` is O(columns x rows^2) pairs
  (every pair enters the vs-best Holm family); each pair must cost O(images), not an
  ``np.intersect1d`` (a sort) of the images. 2,000 and 10,000 images, 20 and 60 rows.
- ``test_put_certificates_rewrite``: ``Store.put_certificates`` over rows already stored
  (a re-certify): one query per (model, noise), not one per certificate.
- ``test_hockey_stick_check_recomputed_from_counts``: the sanity check that the
  hockey-stick certifier equals Cohen's, on a store without its certificates (a run that
  certified with Cohen's only), recomputing 45,000 radii from the counts: once per
  distinct p_lower, not once per image (here 0.28 s against 1.78 s computing per image;
  on 10,000 images x 12 noises at n = 2,000, one worker, the whole report took 18.8 s
  against 31.6 s).
- ``test_load_outcomes``: reading the certificates into the report's table, with the
  peak of Python's and numpy's allocations (``tracemalloc``) per certificate; each name
  is one string object however many rows hold it, and the rows are read in chunks (at
  135,000 certificates: about 1,300 bytes a certificate when every row held its own
  strings and tuples, below 400 now).
"""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

from benchmarks.conftest import SUMMARY
from harness.store import CertificateRow, CountRow, Store
from reports import significance as sig
from reports.columns import Context, board_columns, compared_columns
from reports.rows import Row
from reports.sanity import PASS, SanityContext, SanityInputs
from reports.sanity.hockey_stick import HockeyStickEqualsCohen
from reports.tidy import load_outcomes


def _rows(n_rows: int, n_images: int, seed: int = 0) -> list[Row]:
    rng = np.random.default_rng(seed)
    images = np.arange(0, 5 * n_images, 5, dtype=np.int64)
    base = rng.beta(5, 1.2, n_images)
    out = []
    for k in range(n_rows):
        p = np.clip(base + rng.normal(0, 0.05, n_images), 0, 1)
        out.append(Row(
            "m", f"noise{k}", ("cohen",) if k == 0 else (f"c{k}",), "gaussian" if k == 0 else "x",
            f"noise {k}", images.copy(), np.where(p > 0.5, p, 0.0), rng.random(n_images) < 0.8,
            p <= 0.5, p, 0.1, 0.0,
        ))  # fmt: skip
    return out


@pytest.mark.parametrize("n_images", [2_000, 10_000])
@pytest.mark.parametrize("n_rows", [20, 60])
def test_comparisons(benchmark, n_rows, n_images):
    rows = _rows(n_rows, n_images)
    columns = board_columns([0.0, 0.25, 0.5, 0.75, 1.0, 1.25, 1.5])
    acr = next(c for c in columns if c.key == "acr")
    refs = {r.key: {sig.SAME_NOISE: rows[0]} for r in rows[1:]}
    df = benchmark(sig.comparisons, rows, compared_columns(columns), refs, Context(0.001), acr)
    assert len(df) > 0


@pytest.fixture(scope="module")
def store_with_certificates(tmp_path_factory):
    path = tmp_path_factory.mktemp("scale") / "s.sqlite"
    rng = np.random.default_rng(1)
    n_images, noises = 5_000, [f"gaussian(dim=64,sigma={s})" for s in (0.12, 0.25, 0.5)]
    with Store(path) as st:
        st.put_manifest({"n0": 100, "n": 2000}, noises={
            nz: {"family": "gaussian", "params": {"dim": 64, "sigma": float(nz[-5:-1].strip("="))}}
            for nz in noises})  # fmt: skip
        counts, certs = [], []
        for nz in noises:
            for i in range(n_images):
                est = rng.multinomial(2000, [0.9] + [0.1 / 9] * 9)
                sel = rng.multinomial(100, [0.9] + [0.1 / 9] * 9)
                counts.append(CountRow("m", nz, i, 0, sel, est, 0.1))
                for cert in ("cohen", "wulff", "functional"):
                    for norm in ("l1", "l2", "linf"):
                        certs.append(
                            CertificateRow("m", nz, i, cert, norm, 0.001, 0, 0.8, 0.3, True, 0.0)
                        )
        st.put_counts(counts)
        st.put_certificates(certs)
    return path, certs


def test_put_certificates_rewrite(benchmark, store_with_certificates):
    path, certs = store_with_certificates  # 135,000 certificates, all already stored
    with Store(path) as st:
        benchmark.pedantic(st.put_certificates, args=(certs,), rounds=3, iterations=1)


def test_hockey_stick_check_recomputed_from_counts(benchmark, store_with_certificates):
    path, _ = store_with_certificates  # 5,000 images x 3 noises, no hockey-stick rows
    inputs = SanityInputs.from_store(path)
    check = HockeyStickEqualsCohen()
    result = benchmark.pedantic(check.run, args=(inputs, SanityContext()), rounds=3)
    assert result.status == PASS and "recomputed from the stored counts" in result.summary


def test_load_outcomes(benchmark, store_with_certificates):
    path, certs = store_with_certificates
    table = benchmark.pedantic(load_outcomes, args=(path,), rounds=3, iterations=1)
    assert len(table) == len(certs)
    tracemalloc.start()
    try:
        load_outcomes(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    per_certificate = peak / len(certs)
    SUMMARY.append(
        f"load_outcomes: {len(certs):,} certificates, peak {peak / 2**20:.0f} MiB of Python "
        f"and numpy allocations, {per_certificate:.0f} bytes a certificate"
    )
    assert per_certificate < 400
