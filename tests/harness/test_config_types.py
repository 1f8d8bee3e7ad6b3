"""Keys of the wrong type or form are refused with the key named: a TOML boolean is not
an integer budget, an unknown key in any section is not ignored, a device is checked
for its form when read (docs/configs.md)."""

from __future__ import annotations

import pytest

from harness.config import ConfigError, parse

RUN = {"dataset": "digits", "arch": "mlp", "train_sigmas": [0.25], "n_test": 5, "n": 100}


def refused(data, key):
    with pytest.raises(ConfigError) as err:
        parse(data)
    assert key in str(err.value), str(err.value)


@pytest.mark.parametrize("key", ["n", "n0", "seed", "n_test", "index_stride", "batch_size"])
@pytest.mark.parametrize("value", [True, False])
def test_a_boolean_is_not_an_integer(key, value):
    refused({"run": {**RUN, key: value}}, f"'run.{key}'")


@pytest.mark.parametrize(
    "section, table",
    [
        ("certify", {"alphas": [0.01]}),  # 'alpha' misspelt: would silently keep 0.001
        ("certify", {"norm": ["l2"]}),
        ("report", {"levels": 0.1}),
    ],
)
def test_an_unknown_key_in_any_section_is_refused(section, table):
    (key,) = table
    refused({"run": RUN, section: table}, f"{section}.{key}")


@pytest.mark.parametrize("device", ["gpu", "cuda:x", "cuda:-1", "tpu", ""])
def test_a_malformed_device_is_refused_when_read(device):
    refused({"run": {**RUN, "device": device}}, "'run.device'")


@pytest.mark.parametrize("device", ["auto", "cpu", "cuda", "cuda:1"])
def test_documented_device_forms_are_kept(device):
    assert parse({"run": {**RUN, "device": device}}).device == device
