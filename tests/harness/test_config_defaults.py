"""The defaults of the keys a config leaves out are those docs/configs.md documents
(its "default" column), and those documented defaults are what the parsed config holds.

The expected values are transcribed from docs/configs.md, not printed by the parser."""

from __future__ import annotations

import math
import re
from pathlib import Path

from harness.config import parse

DOCS = (Path(__file__).resolve().parents[2] / "docs" / "configs.md").read_text()

#: The smallest config: a dataset and one model; every other key takes its default.
MINIMAL = {"run": {"dataset": "digits", "arch": "mlp", "train_sigmas": [0.25]}}


def _doc_row(key: str) -> str:
    """The docs table row whose first cell names ``key``."""
    for line in DOCS.splitlines():
        if line.startswith("|") and f"`{key}`" in line.split("|")[1]:
            return line
    raise AssertionError(f"docs/configs.md documents no key {key}")


def test_run_budget_defaults_are_the_documented_ones():
    cfg = parse(MINIMAL)
    # docs: n_test 200, index_stride 1; seed 0; n0 100; n 10,000
    assert "| 200; 1 |" in _doc_row("run.n_test")
    assert (cfg.n_test, cfg.index_stride) == (200, 1)
    assert "| 0 |" in _doc_row("run.seed")
    assert cfg.seed == 0
    assert "| 100 |" in _doc_row("run.n0")
    assert cfg.n0 == 100
    assert "| 10,000 |" in _doc_row("run.n")
    assert cfg.n == 10_000
    assert cfg.batch_size is None  # "chosen to fit the device"


def test_run_forward_pass_defaults_are_the_documented_ones():
    cfg = parse(MINIMAL)
    assert "`auto` (CUDA when present)" in _doc_row("run.device")
    assert cfg.device == "auto"
    # docs: autocast `none` (no autocast), channels_last false, compile false
    assert "| `none`; false; false |" in _doc_row("run.autocast")
    assert cfg.autocast is None and cfg.sampler_options().autocast is None
    assert cfg.channels_last is False and cfg.compile is False
    assert cfg.download is False and cfg.data_root is None and cfg.subset is None
    assert cfg.plugins == ()


def test_autocast_none_written_out_is_the_default():
    """A default written out parses to the same config (docs: it resumes the same store)."""
    assert parse({"run": {**MINIMAL["run"], "autocast": "none"}}).autocast is None
    assert parse({"run": {**MINIMAL["run"], "autocast": "bf16"}}).autocast == "bf16"


def test_certify_defaults_are_the_documented_ones():
    cfg = parse(MINIMAL)
    assert cfg.certifiers == ("all",)
    assert set(cfg.norms) == {"l1", "l2", "linf"} and len(cfg.norms) == 3
    alpha = re.search(r"\| `\[([0-9.]+)\]` \|", _doc_row("certify.alpha"))
    assert alpha is not None
    assert cfg.alphas == (float(alpha.group(1)),) == (0.001,)


def test_the_default_noise_is_one_matched_gaussian():
    cfg = parse(MINIMAL)
    assert len(cfg.noises) == 1
    (noise,) = cfg.noises
    assert (noise.family, noise.matched, noise.params) == ("gaussian", True, {})


def test_matched_is_true_unless_given():
    data = {**MINIMAL, "noises": [{"family": "laplace"}]}
    assert parse(data).noises[0].matched is True
    data = {**MINIMAL, "noises": [{"family": "gaussian", "matched": False, "sigma": 0.3}]}
    assert parse(data).noises[0].matched is False


def test_default_report_radii_and_level_are_the_documented_ones():
    cfg = parse(MINIMAL)
    assert cfg.report.reference == "cohen"
    assert math.isclose(cfg.report.level, 0.05)
    assert cfg.report.grid("l2") == [0, 0.25, 0.5, 0.75, 1, 1.5]
    assert cfg.report.grid("l1") == [0, 0.25, 0.5, 0.75, 1, 1.5]
    assert cfg.report.grid("linf") == [0, 0.01, 0.02, 0.04, 0.06, 0.1]


def test_run_name_defaults_to_the_file_stem(tmp_path):
    from harness.config import load

    path = tmp_path / "my.run.toml"
    path.write_text('[run]\ndataset = "digits"\narch = "mlp"\ntrain_sigmas = [0.25]\n')
    assert load(path).name == "my.run"
