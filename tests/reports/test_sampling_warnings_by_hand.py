"""``sampling_warnings`` on hand-made tables: the sampled (model, noise, image) triples
with no certificate are counted, those of a pair with no certificate at all left to the
missing-group lines; alphas other than the config's are named."""

from __future__ import annotations

import math
import re

import pandas as pd

from harness.sampling_progress import SamplingProgress
from reports.completeness import sampling_warnings

COMPLETE = SamplingProgress(planned=4, sampled={"m": 4})
MANIFEST = {"config": {"certify": {"alpha": [0.001, 0.1]}}}


def triples(pairs, alpha=0.001):
    return pd.DataFrame(
        [(m, nz, i, alpha) for m, nz, images in pairs for i in images],
        columns=["model", "noise", "image", "alpha"],
    )


def uncertified_count(lines):
    found = [re.search(r"certification incomplete: (\d+) sampled", line) for line in lines]
    counts = [int(f.group(1)) for f in found if f]
    assert len(counts) <= 1
    return counts[0] if counts else None


def test_uncertified_triples_are_counted_but_not_those_of_a_pair_missing_whole():
    counts = triples([("m", "a", range(4)), ("m", "b", range(4)), ("m", "c", range(3))])
    outcomes = triples([("m", "a", range(4)), ("m", "b", range(2))])
    missing_groups = [("m", "c", "cohen", "l2", 0.001), ("m", "b", "wulff", "l2", 0.001)]
    lines = sampling_warnings(MANIFEST, COMPLETE, counts, outcomes, missing_groups)
    # b's images 2 and 3; c has no certificate at all: its own line says so
    assert uncertified_count(lines) == 2


def test_one_uncertified_triple_is_warned_of():
    counts = triples([("m", "a", range(4))])
    outcomes = triples([("m", "a", range(3))])
    assert uncertified_count(sampling_warnings(MANIFEST, COMPLETE, counts, outcomes)) == 1
    assert uncertified_count(sampling_warnings(MANIFEST, COMPLETE, counts, counts)) is None


def test_alphas_certified_beside_the_configs_are_named_not_the_configs_own():
    counts = triples([("m", "a", range(2))])
    outcomes = pd.concat(
        [
            triples([("m", "a", range(2))], 0.001),
            triples([("m", "a", range(2))], 0.01),
            triples([("m", "none", range(2))], math.nan),
        ],  # fmt: skip
        ignore_index=True,
    )
    lines = [
        line for line in sampling_warnings(MANIFEST, COMPLETE, counts, outcomes) if "alpha" in line
    ]
    assert len(lines) == 1
    assert lines[0].startswith("alpha = 0.01 certified after the run")


def test_short_sampling_is_warned_of_first():
    short = SamplingProgress(planned=4, sampled={"m": 2})
    counts = triples([("m", "a", range(2))])
    lines = sampling_warnings(MANIFEST, short, counts, counts)
    assert len(lines) == 1 and lines[0].startswith("sampling incomplete: 2 of 4 images")
