"""Import of certify TSVs: all or nothing over several files, options validated and
overriding the layout, the layout read by hand, a stored noise named by its name, and
export's folder names."""

import datetime

import pytest

from harness.interop.cohen_layout import COHEN_ALPHA, parse_layout
from harness.interop.cohen_tsv import TsvError
from harness.interop.importing import ImportOptions, import_cohen_tsv
from harness.store import Store

HEADER = "idx\tlabel\tpredict\tradius\tcorrect\ttime"
ROWS = [(0, 3, -1, 0.0, 15.2), (20, 7, 7, 0.3, 15.0), (40, 4, 4, 0.6, 16.0)]


def cohen_row(idx, label, predict, radius, seconds):
    time = str(datetime.timedelta(seconds=seconds))
    return f"{idx}\t{label}\t{predict}\t{radius:.3}\t{int(predict == label)}\t{time}"


def write_cohen(path, rows, extra=""):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join([HEADER, *(cohen_row(*r) for r in rows)]) + "\n" + extra)
    return path


@pytest.mark.parametrize(
    ("second", "extra", "error", "match"),
    [
        # a malformed row in the second file
        ("cifar10/resnet110/noise_0.50/test/sigma_0.50", "60\t1\t1\t0.5\t0\t1.0\n",
         TsvError, r"sigma_0.50:5: correct is 0 but predict 1 and label 1 say 1"),
        # the group of the first file again
        ("b/cifar10/resnet110/noise_0.25/test/sigma_0.25", "", ValueError,
         "import them one at a time"),
        # another dataset than the first file's
        ("imagenet/resnet50/noise_0.25/test/sigma_0.25", "", ValueError,
         "holds imagenet results"),
    ],
    ids=["malformed", "same-group", "other-dataset"],
)  # fmt: skip
def test_a_refused_second_file_imports_nothing_of_the_first(tmp_path, second, extra, error, match):
    """Import is all or nothing: a good file, then one refused, leaves the store empty."""
    good = write_cohen(tmp_path / "cifar10/resnet110/noise_0.25/test/sigma_0.25", ROWS)
    refused = write_cohen(tmp_path / second, ROWS, extra)
    with Store(tmp_path / "s.sqlite") as st:
        with pytest.raises(error, match=match):
            import_cohen_tsv(st, [good, refused])
        assert st.imported_rows() == []


def test_rows_and_their_noise_specs_are_written_together(tmp_path, monkeypatch):
    """A store never holds imported rows whose noise has no spec: a failure while the
    specs are written leaves neither."""
    path = write_cohen(tmp_path / "cifar10/resnet110/noise_0.25/test/sigma_0.25", ROWS)

    def fail(self, specs):
        raise OSError("disk full")

    with Store(tmp_path / "s.sqlite") as st:
        monkeypatch.setattr(Store, "_put_noises", fail)
        with pytest.raises(OSError, match="disk full"):
            import_cohen_tsv(st, [path])
        monkeypatch.undo()
        assert st.imported_rows() == [] and st.noise_specs() == {}
        import_cohen_tsv(st, [path])
        noises = {r.noise for r in st.imported_rows()}
        assert len(noises) == 1 and noises <= set(st.noise_specs())


# option values are validated.
@pytest.mark.parametrize(
    "alpha,norm,message", [(0.0, "l2", "--alpha"), (1.5, "l2", "--alpha"), (0.001, "l7", "--norm")]
)
def test_bad_alpha_or_norm_is_refused(tmp_path, alpha, norm, message):
    path = write_cohen(tmp_path / "elsewhere/run.tsv", ROWS)
    options = ImportOptions("theirs", "gaussian:sigma=0.25", "cohen", norm, alpha, "cifar10")
    with Store(tmp_path / "s.sqlite") as st:
        with pytest.raises(ValueError, match=message):
            import_cohen_tsv(st, [path], options)


# command-line options override what the layout infers.
def test_options_override_the_layout(tmp_path):
    path = write_cohen(tmp_path / "cifar10/resnet110/noise_0.25/test/sigma_0.25", ROWS)
    options = ImportOptions(model="mine", alpha=0.01, certifier="wulff")
    with Store(tmp_path / "s.sqlite") as st:
        (done,) = import_cohen_tsv(st, [path], options)
        assert (done.model, done.alpha, done.certifier) == ("mine", 0.01, "wulff")
        assert {(r.model, r.alpha, r.certifier) for r in st.imported_rows()} == {
            ("mine", 0.01, "wulff")
        }


# what the layout says, by hand.
def test_layout_fields_by_hand():
    lay = parse_layout("cifar10/resnet20/noise_0.50/test/sigma_0.25")
    assert (lay.dataset, lay.train_sigma, lay.sigma, lay.split) == ("cifar10", 0.5, 0.25, "test")
    assert COHEN_ALPHA == 0.001  # Cohen et al.'s certify.py default --alpha
    # an unknown network keeps the noise folder's text in its name
    assert lay.model == "cifar10-resnet20-noise0.50"
    # the innermost match wins where a prefix holds another layout-like window
    nested = parse_layout(
        "imagenet/x/noise_1.00/test/sigma_1.00/cifar10/resnet110/noise_0.12/test/sigma_0.12"
    )
    assert (nested.dataset, nested.train_sigma, nested.sigma) == ("cifar10", 0.12, 0.12)
    assert parse_layout("cifar10/resnet110/noise_0.25/val/sigma_0.25") is None


# the command line's --dataset wins over the layout's (module docstring's order).
def test_dataset_option_overrides_the_layout(tmp_path):
    path = write_cohen(tmp_path / "cifar10/resnet110/noise_0.25/test/sigma_0.25", ROWS)
    options = ImportOptions(model="mine", noise="gaussian:sigma=0.25", dataset="imagenet")
    with Store(tmp_path / "s.sqlite") as st:
        (done,) = import_cohen_tsv(st, [path], options)
        assert done.dataset == "imagenet"
        assert {r.dataset for r in st.imported_rows()} == {"imagenet"}


# a file whose radii are all zero (every image abstains) is not reported as lowered.
def test_a_file_of_zero_radii_is_not_lowered(tmp_path):
    rows = [(0, 3, -1, 0.0, 15.2), (20, 7, -1, 0.0, 15.0)]
    path = write_cohen(tmp_path / "cifar10/resnet110/noise_0.25/test/sigma_0.25", rows)
    with Store(tmp_path / "s.sqlite") as st:
        (done,) = import_cohen_tsv(st, [path])
        assert done.lowered is False


# --noise may name a noise the store already holds, by its stored name.
def test_noise_option_may_be_a_stored_noise_name(tmp_path):
    cohen = write_cohen(tmp_path / "cifar10/resnet110/noise_0.25/test/sigma_0.25", ROWS)
    plain = write_cohen(tmp_path / "elsewhere/run.tsv", ROWS)
    name = "gaussian(dim=3072,sigma=0.25)"
    with Store(tmp_path / "s.sqlite") as st:
        import_cohen_tsv(st, [cohen])
        assert name in st.noise_specs()
        options = ImportOptions("theirs", name, "cohen", "l2", 0.001, "cifar10")
        (done,) = import_cohen_tsv(st, [plain], options)
        assert done.noise == name


# folder names keep only letters, digits and ._=,- (module docstring's example).
def test_safe_folder_names():
    from harness.interop.exporting import safe_name

    assert safe_name("gaussian(dim=3072,sigma=0.25)") == "gaussian_dim=3072,sigma=0.25_"
    assert safe_name("a/b c") == "a_b_c"
    assert safe_name("..") == "_.."


# two models whose folder names coincide are refused, never overwrite each other.
def test_models_with_one_folder_name_are_refused(tmp_path):
    import numpy as np

    from harness.certify import certify_store
    from harness.interop.exporting import write_cohen_tsv
    from harness.noise import Gaussian
    from tests.reports._report_synth import DIM, add_counts, new_store

    config = {"certify": {"certifiers": ["cohen"], "norms": ["l2"], "alpha": [0.001]}}
    store = new_store(tmp_path / "s.sqlite", 4, {"m(1)": 0.25, "m_1_": 0.25}, config=config)
    labels = np.arange(4) % 10
    for model in ("m(1)", "m_1_"):
        add_counts(store, model, Gaussian(0.25, DIM), labels, labels, [990] * 4)
    certify_store(store, ["cohen"], ["l2"], [0.001], progress=False)
    with pytest.raises(ValueError, match="would both be written"):
        write_cohen_tsv(store, tmp_path / "out")
    store.close()


def _store_with_counts(path, labels: dict[int, int]):
    import numpy as np

    from harness.store import CountRow

    st = Store(path)
    st.put_noises({"gaussian(dim=3072,sigma=0.25)": {"family": "gaussian", "params": {}}})
    est = np.zeros(10, dtype=np.int64)
    est[0] = 100
    st.put_counts(
        [
            CountRow(
                "m", "gaussian(dim=3072,sigma=0.25)", i, y, np.eye(10, dtype=np.int64)[0], est, 0.1
            )
            for i, y in labels.items()
        ]
    )
    return st


@pytest.mark.parametrize("where", ["counts", "earlier-import", "same-import"])
def test_a_file_whose_labels_disagree_with_the_store_is_refused(tmp_path, where):
    """Imported rows are paired with the store's by image index: an index whose label
    differs names another image (another order or copy of the test set), so the import is
    refused, whole, naming the index and both labels."""
    other = [(0, 3, -1, 0.0, 15.2), (20, 8, 8, 0.3, 15.0), (40, 4, 4, 0.6, 16.0)]  # 20: 8 not 7
    first = write_cohen(tmp_path / "a/cifar10/resnet110/noise_0.25/test/sigma_0.25", ROWS)
    second = write_cohen(tmp_path / "b/cifar10/resnet110/noise_0.50/test/sigma_0.50", other)
    if where == "counts":
        st = _store_with_counts(tmp_path / "s.sqlite", {r[0]: r[1] for r in ROWS})
        files, before = [second], []
    else:
        st = Store(tmp_path / "s.sqlite")
        if where == "earlier-import":
            import_cohen_tsv(st, [first])
            files = [second]
        else:
            files = [first, second]
        before = st.imported_rows()
    with st:
        with pytest.raises(ValueError) as err:
            import_cohen_tsv(st, files)
        text = str(err.value)
        assert "image 20 label 8" in text and "label 7" in text and "nothing was imported" in text
        assert st.imported_rows() == before
        # the same rows with the store's labels import
        import_cohen_tsv(
            st, [write_cohen(tmp_path / "c/cifar10/resnet110/noise_1.00/test/sigma_1.00", ROWS)]
        )
        assert len(st.imported_rows()) == len(before) + len(ROWS)


def test_a_file_imported_again_is_checked_without_the_rows_it_replaces(tmp_path):
    """Importing a file again replaces its own rows, so a label fixed in it is taken; its
    labels are still held to every other file's (review)."""
    path = tmp_path / "a/cifar10/resnet110/noise_0.25/test/sigma_0.25"
    typo = [(0, 3, -1, 0.0, 15.2), (20, 8, 8, 0.3, 15.0), (40, 4, 4, 0.6, 16.0)]  # 20: 8
    with Store(tmp_path / "s.sqlite") as st:
        import_cohen_tsv(st, [write_cohen(path, typo)])
        import_cohen_tsv(st, [write_cohen(path, ROWS)])  # fixed in place: image 20 is a 7
        assert sorted((r.image, r.label) for r in st.imported_rows()) == [(0, 3), (20, 7), (40, 4)]
        other = write_cohen(tmp_path / "b/cifar10/resnet110/noise_0.50/test/sigma_0.50", ROWS)
        import_cohen_tsv(st, [other])
        with pytest.raises(ValueError, match="image 20 label 8"):
            import_cohen_tsv(st, [write_cohen(path, typo)])  # now the other file disagrees


# Cohen et al.'s layout holds their datasets only: a digits file laid out the same way is
# told why its path is not read as the layout, not only that it is not.
def test_a_layout_of_another_dataset_is_told_which_datasets_the_layout_holds(tmp_path):
    path = write_cohen(tmp_path / "digits/mlp/noise_0.25/test/sigma_0.25", ROWS)
    with Store(tmp_path / "s.sqlite") as st, pytest.raises(ValueError) as refused:
        import_cohen_tsv(st, [path], ImportOptions(dataset="digits"))
    message = str(refused.value)
    assert "does not follow Cohen et al.'s layout" in message
    assert "one of cifar10, imagenet" in message and "--model" in message
