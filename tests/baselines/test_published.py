"""The papers' published numbers: well-formed, certified accuracy never rising with the
radius, each linked to a checkpoint that exists, and the rows the issue quotes as quoted."""

import json

import numpy as np
import pytest

from baselines.checkpoints import KNOWN_CHECKPOINTS
from baselines.published import PUBLISHED, published_records, published_results


@pytest.mark.parametrize("result", PUBLISHED, ids=lambda r: f"{r.paper[:12]}-{r.method[:30]}")
def test_records_are_well_formed(result):
    radii = np.asarray(result.radii)
    acc = np.asarray(result.certified_accuracy)
    assert len(radii) == len(acc) >= 1
    assert (radii > 0).all() and (np.diff(radii) > 0).all()
    assert ((acc >= 0) & (acc <= 100)).all()
    assert (np.diff(acc) <= 0).all()  # certified accuracy cannot grow with the radius
    assert result.dataset in ("cifar10", "imagenet") and result.norm in ("l1", "l2", "linf")
    assert result.model is None or result.model in KNOWN_CHECKPOINTS
    assert result.n_images is None or result.n_images > 0
    assert result.paper and result.table


def test_records_are_plain_data():
    records = published_records()
    assert len(records) == len(PUBLISHED)
    assert json.loads(json.dumps(records)) == records  # str, numbers, None, lists only


def accuracies(**query):
    return {r.method: list(r.certified_accuracy) for r in published_results(**query)}


def test_zhang_l1_tables_as_the_issue_quotes_them():
    cifar = accuracies(dataset="cifar10", norm="l1", paper="functional")
    assert sorted(cifar.values()) == [
        [62, 49, 38, 30, 23, 19, 17, 14, 12],
        [64, 51, 41, 34, 27, 22, 18, 17, 14],
    ]
    imagenet = accuracies(dataset="imagenet", norm="l1", paper="functional")
    assert sorted(imagenet.values()) == [[50, 41, 33, 29, 25, 18, 15], [51, 42, 36, 30, 26, 22, 16]]
    (radii,) = {r.radii for r in published_results(dataset="cifar10", norm="l1")}
    assert radii == (0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 1.75, 2.0, 2.25)


def test_the_responses_two_claims():
    claims = published_results(paper="response")
    by = {(r.dataset, r.norm, r.certified_accuracy[0]) for r in claims}
    assert by == {("imagenet", "l2", 49), ("imagenet", "l2", 50),
                  ("cifar10", "linf", 62.6), ("cifar10", "linf", 64.7)}  # fmt: skip
    trades = [r for r in claims if r.norm == "linf"]
    assert all(r.model == "trades2019-cifar10-wrn34-10" and r.radii == (2 / 255,) for r in trades)


def test_cohen_rows_name_the_checkpoint_they_were_measured_on():
    rows = published_results(paper="Cohen")
    assert len(rows) == 7
    for r in rows:
        assert KNOWN_CHECKPOINTS[r.model].sigma0 == r.sigma and r.n_images == 500
