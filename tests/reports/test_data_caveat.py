"""``reports.data_caveat``: the caveat a run recorded is the report's; a store written
before runs recorded one is judged by its CIFAR-10 md5 against the official test batch's
(the md5 torchvision checks, independent of this project); no caveat otherwise."""

from __future__ import annotations

from reports.data_caveat import data_caveat, data_caveat_warnings

OFFICIAL = "md5:40351d587109b95175f43aff81a1287e"  # torchvision's CIFAR10.test_list


def test_the_recorded_caveat_is_the_reports():
    manifest = {"dataset": "cifar10", "data_checksum": "md5:0", "data_caveat": "a copy"}
    assert data_caveat(manifest) == "a copy"
    assert data_caveat_warnings(manifest) == ["not the official test data: a copy"]
    assert data_caveat({**manifest, "data_caveat": None}) is None  # recorded: none


def test_an_older_store_is_judged_by_its_cifar10_md5():
    old = {"dataset": "cifar10", "data_checksum": "md5:2621aa"}
    assert "md5:2621aa" in data_caveat(old) and OFFICIAL in data_caveat(old)
    assert data_caveat({**old, "data_checksum": OFFICIAL}) is None
    assert data_caveat({"dataset": "imagenet", "data_checksum": None}) is None
    assert data_caveat({"dataset": "digits"}) is None
