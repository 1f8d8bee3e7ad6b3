"""End to end on the real baselines' formats, without downloading anything: a fake
CIFAR-10 folder in torchvision's layout, two random-weight checkpoints in two formats,
`smoothbench run` with both models on two images, then a report, an export, and an
imported Cohen et al. TSV compared image by image with the run."""

import warnings

import pytest
import torch

from baselines.architectures import build
from baselines.training import file_sha256
from harness.cli import main
from harness.store import Store
from reports.tidy import load_imported_outcomes, load_outcomes
from tests.baselines.fake_data import randomize_batch_norm, write_fake_cifar10

CONFIG = """
[run]
name = "fake-cifar"
dataset = "cifar10"
data_root = "{data}"
index_stride = 10
n_test = 2
n0 = 10
n = 60
batch_size = 64
seed = 0

[[models]]
name = "resnet20-cohen-format"
checkpoint = "{cohen}"
sigma0 = 0.25

[[models]]
checkpoint = "{script}"
format = "torchscript"
sigma0 = 0.5

[[noises]]
family = "gaussian"

[[noises]]
family = "laplace"

[certify]
certifiers = ["cohen", "wulff"]
norms = ["l1", "l2"]
"""


@pytest.fixture(scope="module")
def fake_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("real-baselines")
    write_fake_cifar10(root / "data", n=25)
    torch.manual_seed(0)
    a = randomize_batch_norm(build("cifar_resnet20"), seed=1)
    b = randomize_batch_norm(build("cifar_resnet20"), seed=2)
    cohen = root / "models" / "checkpoint.pth.tar"
    cohen.parent.mkdir()
    torch.save({"epoch": 1, "arch": "cifar_resnet20", "state_dict": a.state_dict()}, cohen)
    script = root / "models" / "second_net.pt"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.jit.save(torch.jit.trace(b, torch.rand(2, 3, 32, 32)), str(script))
    config = root / "fake.toml"
    config.write_text(CONFIG.format(data=root / "data", cohen=cohen, script=script))
    store = root / "fake.sqlite"
    with pytest.warns(UserWarning, match="not the official CIFAR-10 test batch"):
        assert main(["run", str(config), "--store", str(store), "--quiet"]) == 0
    return root, store, {"resnet20-cohen-format": cohen, "second_net": script}


def test_two_checkpoints_two_images_in_one_store(fake_run):
    _, store, files = fake_run
    with Store(store) as st:
        counts = st.count_rows()
        manifest = st.manifest()
    assert {(r.model, r.image) for r in counts} == {(m, i) for m in files for i in (0, 10)}
    assert len({r.noise for r in counts}) == 4  # two families x two sigma0
    assert all(r.n == 60 and r.n0 == 10 for r in counts)
    assert manifest["index_set"] == [0, 10]
    assert manifest["data_checksum"].startswith("md5:")
    assert "not the official CIFAR-10 test batch" in manifest["data_caveat"]
    for name, path in files.items():  # each model's sha256 is its file's
        assert manifest["models"][name]["sha256"] == file_sha256(path)
    outcomes = load_outcomes(store)
    assert set(outcomes["model"]) == set(files)
    assert set(outcomes["certifier"]) == {"cohen", "wulff"}


def test_the_report_compares_both_models(fake_run, tmp_path):
    _, store, files = fake_run
    assert main(["report", str(store), "--out", str(tmp_path), "--format", "md", "csv"]) == 0
    text = (tmp_path / "leaderboard.md").read_text()
    assert all(name in text for name in files)
    # a fake test batch: said among the warnings and before the papers' numbers
    warnings_part = text[: text.index("## ")]
    assert "not the official test data" in warnings_part
    assert "Published numbers" in text
    published = text[text.index("Published numbers") :]
    assert published.index("Not the papers' data, so not the same images") < published.index("|")


def test_an_imported_cohen_tsv_pairs_with_the_run_by_image(fake_run, tmp_path):
    root, store, _ = fake_run
    with Store(store) as st:
        labels = {r.image: r.label for r in st.count_rows()}
    tsv = root / "data" / "certify" / "cifar10" / "resnet110" / "noise_0.25" / "test" / "sigma_0.25"
    tsv.parent.mkdir(parents=True)
    lines = ["idx\tlabel\tpredict\tradius\tcorrect\ttime"]
    lines += [f"{i}\t{labels[i]}\t{labels[i]}\t0.5\t1\t0:00:15.123456" for i in (0, 10)]
    tsv.write_text("\n".join(lines) + "\n")
    assert main(["import", "cohen-tsv", str(tsv), "--store", str(store)]) == 0
    imported = load_imported_outcomes(store)
    assert set(imported["model"]) == {"cohen2019-cifar10-resnet110-noise0.25"}
    run = load_outcomes(store)
    run = run[(run["certifier"] == "cohen") & (run["norm"] == "l2")]
    paired = run.merge(imported, on=["image", "noise", "label"], suffixes=("", "_imported"))
    assert sorted(set(paired["image"])) == [0, 10]  # same images, same Gaussian noise name
    assert main(["export", "cohen-tsv", str(store), "--out", str(tmp_path / "tsv")]) == 0
    assert (tmp_path / "tsv" / "index.json").is_file()
