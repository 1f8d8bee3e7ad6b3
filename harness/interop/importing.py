"""Certify TSVs -> a store's ``imported`` table.

Each file's model, noise, certifier, norm, alpha and dataset come from the command line,
else from the ``index.json`` that ``smoothbench export`` writes beside its files, else from
Cohen et al.'s folder layout (``harness.interop.cohen_layout``). A noise is named as the
runner names it (``gaussian(dim=3072,sigma=0.25)``), and its spec goes to the store's
``noises`` table, so that imported rows meet the rows of a run on the same images. Rows
have no counts: they cannot be recertified, and the report says so.

An ``index.json`` entry says more: the confidence the file's certificates spend beyond
alpha (kept per imported group in the manifest's ``imported_confidence_spent``, which the
report reads; for a file no export describes, what its certifier spends on its noise,
``certificate_claims.declared_spent``), and the export's soundness verdict: a file found
unsound, or that the export could not check, is refused. The embedded digits' files must
name test images with their labels, and no radius may exceed what the file's certifier
issues for its noise at any number of draws (``certificate_claims.largest_radius``).

Radii: a file whose every radius is printed with at most 3 significant digits, as Cohen
et al.'s code prints them (rounded to the nearest), is read as rounded: each radius is
stored as the smallest value that prints as its text (``0.5`` as 0.4995), so that no
imported radius exceeds the certificate behind it. Files listed in an ``index.json`` of
``smoothbench export`` hold radii rounded down already and are stored as printed, as are
files with more digits.
"""

from __future__ import annotations

import json
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import certifiers
from baselines.datasets import CLASSES, IMAGES, INPUT_SHAPES, load_digits
from certifiers.base import NORMS
from certifiers.bounds import alpha_printed_alike, check_alpha
from harness.interop.certificate_claims import REACH_SLACK, declared_spent, largest_radius
from harness.interop.cohen_layout import COHEN_ALPHA, DATASETS, parse_layout
from harness.interop.cohen_tsv import (
    PRINTED_DIGITS,
    TsvRow,
    lowest_radius_printed_as,
    read_tsv,
    significant_digits,
)
from harness.noise import Gaussian, Noise, noise_class, rebuild_noise
from harness.noise.written import split_noise_text
from harness.store import ImportedRow, Store
from smoothbench.names import did_you_mean, unknown_name
from smoothbench.safe_names import shown_name_fault

INDEX_FILE = "index.json"
#: The key of an ``index.json`` written while an export moves its files in and deletes
#: the earlier export's: until it finishes, the folder's files may be of two exports.
MOVING = "moving_files_in"


@dataclass(frozen=True)
class ImportOptions:
    """What the command line says (``None``: infer it)."""

    model: str | None = None
    noise: str | None = None
    certifier: str | None = None
    norm: str | None = None
    alpha: float | None = None
    dataset: str | None = None


@dataclass(frozen=True)
class ImportedFile:
    source: str
    dataset: str
    model: str
    noise: str
    certifier: str
    norm: str
    alpha: float
    rows: int
    #: radii read as rounded to the nearest (Cohen et al.'s 3 digits) and stored as the
    #: smallest value each text stands for
    lowered: bool = False
    #: listed as incomplete by the export that wrote it (``complete: false`` in its
    #: ``index.json``): its run had not sampled or certified all of its images
    incomplete: bool = False
    #: the failure probability its certificates spend beyond alpha (their export's
    #: ``confidence_spent``: a Monte Carlo certifier's own; for a file no export
    #: describes, what its certifier spends on its noise here, ``declared_spent``)
    confidence_spent: float = 0.0


def _dim(dataset: str) -> int:
    shape = INPUT_SHAPES.get(dataset)
    if shape is None:
        raise ValueError(unknown_name("dataset", dataset, INPUT_SHAPES))
    size = 1
    for s in shape:
        size *= s
    return size


def parse_noise(text: str, dataset: str, store: Store) -> tuple[str, dict[str, Any] | None]:
    """``family:param=value,...`` (e.g. ``gaussian:sigma=0.25``, or written as a stored
    name, ``gaussian(sigma=0.25)``: ``harness.noise.written``) -> the runner's name for
    that noise at the dataset's dimension and its spec; or the name of a noise the store
    already holds."""
    if text in store.noise_specs():
        return text, None
    split = split_noise_text(text)
    if split is None:
        raise ValueError(f"--noise {text!r}: write parameters as key=value")
    family, written = split
    params: dict[str, Any] = {}
    for key, value in written.items():
        try:
            params[key] = float(value)
        except ValueError:
            raise ValueError(
                f"--noise {text!r}: parameter {key!r} = {value!r} is not a number"
            ) from None
    try:
        cls = noise_class(family)
        cls.check_param_names(params)
        noise: Noise = cls(dim=_dim(dataset), **params)
    except (ValueError, TypeError) as err:
        raise ValueError(
            f"--noise {text!r} is neither a noise of the store nor family:param=value,... "
            f"(e.g. gaussian:sigma=0.25): {err}"
        ) from None
    return noise.name, noise.spec()


class ExportIndexes:
    """The ``index.json`` files of ``smoothbench export`` that describe the files of one
    import, each read once: a file's entry is in the index of one of the six folders above
    it. An ``index.json`` that is JSON but not an export's (no ``"format": "cohen-tsv"``)
    is passed over; one that is not JSON, or the entry of a file imported that lacks a
    field, is an error naming it. Of two entries of one file the first counts."""

    def __init__(self) -> None:
        self._listings: dict[Path, dict[Path, dict[str, Any]] | None] = {}

    def entry(self, path: Path) -> dict[str, Any] | None:
        """The entry of ``path``, or ``None`` where no export's index lists it; an entry
        lacking a field is an error (the entries of other files are not judged)."""
        resolved = path.resolve()
        for folder in list(resolved.parents)[:6]:
            listing = self._listing(folder, path)
            if listing is not None and resolved in listing:
                entry = listing[resolved]
                lacking = [k for k in _DESCRIBED if k not in entry]
                if lacking:
                    raise ValueError(
                        f"{folder / INDEX_FILE}: the entry of {entry['file']} lacks "
                        f"{', '.join(lacking)}; run `smoothbench export` again"
                    )
                return entry
        return None

    def _listing(self, folder: Path, path: Path) -> dict[Path, dict[str, Any]] | None:
        """The entries of ``folder``'s export index by the resolved path of their file."""
        if folder not in self._listings:
            self._listings[folder] = self._read(folder, path)
        return self._listings[folder]

    @staticmethod
    def _read(folder: Path, path: Path) -> dict[Path, dict[str, Any]] | None:
        index = folder / INDEX_FILE
        if not index.is_file():
            return None
        try:
            listing = json.loads(index.read_text(encoding="utf-8"))
        except ValueError as err:  # JSONDecodeError and UnicodeDecodeError
            raise ValueError(
                f"{index}: not readable as the index.json of `smoothbench export` ({err}); "
                f"import reads the index.json of each folder that holds {path}, six "
                "levels up: mend or move it"
            ) from None
        if not isinstance(listing, dict) or listing.get("format") != "cohen-tsv":
            return None
        if listing.get(MOVING):
            raise ValueError(
                f"{index}: an export into {folder} stopped while it replaced an earlier "
                "export's files, so they may be of two exports; run `smoothbench export` "
                "into it again"
            )
        entries: dict[Path, dict[str, Any]] = {}
        files = listing.get("files")
        for entry in files if isinstance(files, list) else []:
            # an entry that names no file names none of the files imported: passed over
            if isinstance(entry, dict) and isinstance(entry.get("file"), str):
                entries.setdefault((folder / entry["file"]).resolve(), entry)  # the first
        return entries


#: What an export's index says of each file, and import takes from it.
_DESCRIBED = ("dataset", "model", "noise", "certifier", "norm", "alpha")


def describe(
    path: Path, options: ImportOptions, store: Store, indexes: ExportIndexes | None = None
) -> dict[str, Any]:
    """Model, noise (name and spec), certifier, norm, alpha and dataset of one file
    (``indexes``: the export indexes read so far by this import)."""
    meta: dict[str, Any] = {}
    entry = (indexes or ExportIndexes()).entry(path)
    layout = parse_layout(path)
    if entry is not None:
        meta = {k: entry[k] for k in _DESCRIBED}
        meta["spec"] = entry.get("spec")
        meta["rounded_down"] = True  # smoothbench export rounds radii down
        meta["incomplete"] = entry.get("complete") is False
        if "confidence_spent" in entry:  # an export before it was written: as no export
            meta["confidence_spent"] = _spent(path, entry["confidence_spent"])
        _check_verdict(path, entry.get("soundness"))
    elif layout is not None:
        if layout.split != "test":
            raise ValueError(
                f"{path} certifies the {layout.split!r} split; only test images join a leaderboard"
            )
        gaussian = Gaussian(layout.sigma, _dim(layout.dataset))
        meta = {
            "dataset": layout.dataset, "model": layout.model, "noise": gaussian.name,
            "spec": gaussian.spec(), "certifier": "cohen", "norm": "l2", "alpha": COHEN_ALPHA,
        }  # fmt: skip
    given = {k: v for k, v in vars(options).items() if v is not None}
    dataset = given.get("dataset") or meta.get("dataset") or store.get_manifest("dataset")
    if dataset is None:
        raise ValueError(f"{path}: cannot infer the dataset; give --dataset")
    meta["dataset"] = dataset
    if "noise" in given:
        if dataset not in INPUT_SHAPES:  # named before the noise, whose dimension it sets
            origin = "--dataset" if given.get("dataset") else f"{path}: the dataset"
            raise ValueError(
                f"{origin} {dataset!r}: {unknown_name('dataset', dataset, INPUT_SHAPES)}"
            )
        meta["noise"], meta["spec"] = parse_noise(given["noise"], dataset, store)
    for key in ("model", "certifier", "norm", "alpha"):
        if key in given:
            meta[key] = given[key]
    missing = [k for k in ("model", "noise", "certifier", "norm", "alpha") if k not in meta]
    if missing:
        raise ValueError(
            f"{path} does not follow Cohen et al.'s layout (<dataset>/<network>/noise_<s>/"
            f"test/sigma_<s>, <dataset> one of {', '.join(DATASETS)}, their datasets) and no "
            "index.json lists it: give " + ", ".join(f"--{k}" for k in missing)
        )
    model = str(meta["model"])  # a run's may be its checkpoint file's name: spaces allowed
    if not model.strip() or model != model.strip() or "\n" in model or "\r" in model:
        raise ValueError(
            f"{path}: model name {model!r} is empty, padded with spaces or more than one "
            "line: give --model NAME"
        )
    if (fault := shown_name_fault(meta["certifier"])) is not None:  # a registered name's rule
        raise ValueError(
            f"{path}: certifier name {meta['certifier']!r}: {fault}; give --certifier NAME"
        )
    if meta["norm"] not in NORMS:
        raise ValueError(f"--norm {meta['norm']!r}: one of {list(NORMS)}")
    spec = meta.get("spec") or store.noise_specs().get(meta["noise"])  # a stored noise's
    _check_certifier_named(path, meta["certifier"], spec, meta["norm"])
    try:
        alpha = check_alpha(float(meta["alpha"]))
    except (TypeError, ValueError) as err:
        raise ValueError(f"--alpha {meta['alpha']}: {err}") from None
    if (alike := alpha_printed_alike(alpha, store.certificate_alphas())) is not None:
        raise ValueError(
            f"--alpha {alpha!r} prints as {alpha:g}, as the store's {alike!r} does: the "
            "report could not tell their tables and files apart"
        )
    return meta


def _check_certifier_named(path: Path, name: str, spec: Any, norm: str) -> None:
    """Imported rows under a registered certifier's name claim its certificates: a
    deterministic one (a bound over an input box, made by ``run``, with no noise) or one
    that does not certify the noise against the norm is refused (the leaderboard showed
    "Gaussian · ibp"). Another name is the rows' own, but one close to a registered name
    is warned of: the radius check of the registered certifier is then skipped."""
    if name not in certifiers.available():
        if close := did_you_mean(name, certifiers.available()):
            warnings.warn(
                f"{path}: certifier {name!r} is not registered here, so its radii are not "
                f"checked against a certifier's largest; {close}(import under the "
                "registered name to have them checked)",
                stacklevel=3,
            )
        return
    if certifiers.is_deterministic(name):
        raise ValueError(
            f"{path}: {name!r} is a deterministic certifier (a bound over an input box, "
            "made by `smoothbench run`), not one of a smoothing noise; give --certifier "
            "the name of the method that made these certificates"
        )
    noise = rebuild_noise(spec)
    try:
        supported = noise is None or certifiers.get(name).supports(noise, norm)
    except (ValueError, TypeError, NotImplementedError):
        supported = True  # it cannot say here: the rows stand under their name
    if not supported:
        raise ValueError(
            f"{path}: the registered certifier {name!r} does not certify {noise.name} "
            f"against {norm}, so these cannot be its certificates; give --certifier the "
            "name of the method that made them"
        )


def _spent(path: Path, value: object) -> float:
    """An index entry's ``confidence_spent``: a probability in [0, 1)."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value < 1:
        raise ValueError(
            f"{path}: its index.json gives confidence_spent {value!r}: the failure "
            "probability its certificates spend beyond alpha lies in [0, 1) (nothing was "
            "imported)"
        )
    return float(value)


def _check_verdict(path: Path, verdict: object) -> None:
    """Refuse a file whose export's soundness gate (``reports.sanity.soundness``) found
    its certifier unsound, or could not check it (its noise family not registered where
    it was exported, or a plugin changed since the sampling): its rows would join this
    store's leaderboards unmarked. Files of an export run without the gate (``None``)
    are taken as a file of no export is."""
    if not isinstance(verdict, str):
        return
    if verdict.startswith("unsound"):
        raise ValueError(
            f"{path}: the export's soundness check found its certifier unsound ({verdict}): "
            "its radii are not certificates (nothing was imported)"
        )
    if verdict.startswith("unchecked"):
        raise ValueError(
            f"{path}: the export's soundness check could not check it ({verdict}); export "
            "it again where its noise is registered (`smoothbench export --plugin ...`), "
            "so that the check runs (nothing was imported)"
        )


def printed_to_three_digits(table: list[TsvRow]) -> bool:
    """Whether every radius of a file is printed with at most 3 significant digits (as
    Cohen et al.'s ``{:.3}`` prints them), at least one of them nonzero."""
    digits = [significant_digits(r.radius_text) for r in table if r.radius_text]
    return len(digits) == len(table) and 0 < max(digits, default=0) <= PRINTED_DIGITS


def import_cohen_tsv(
    store: Store, paths: list[str | Path], options: ImportOptions | None = None
) -> list[ImportedFile]:
    """Import every file, all of them or none: each file is read and checked, then all
    rows are written in one transaction. Returns what each file became."""
    options = options or ImportOptions()
    datasets = {store.get_manifest("dataset")} | {
        d for (d,) in store.query("SELECT DISTINCT dataset FROM imported")
    }
    datasets.discard(None)
    done: list[ImportedFile] = []
    rows: list[ImportedRow] = []
    specs: dict[str, dict[str, Any]] = {}
    groups: dict[tuple, str] = {}
    indexes = ExportIndexes()
    for raw in paths:
        path = Path(raw)
        if not path.is_file():
            raise FileNotFoundError(f"no file at {path}")
        meta = describe(path, options, store, indexes)
        if datasets - {meta["dataset"]}:
            raise ValueError(
                f"{path} holds {meta['dataset']} results, but {store.path} holds "
                f"{sorted(datasets)[0]} results"
            )
        datasets.add(meta["dataset"])
        source = str(path)
        group = (meta["model"], meta["noise"], meta["certifier"], meta["norm"], meta["alpha"])
        if group in groups:
            raise ValueError(
                f"{groups[group]} and {source} are both model {group[0]!r}, noise "
                f"{group[1]!r}, certifier {group[2]!r}: import them one at a time with --model"
            )
        groups[group] = source
        table = read_tsv(path)
        lowered = not meta.get("rounded_down") and printed_to_three_digits(table)
        read = [
            ImportedRow(
                meta["dataset"], meta["model"], meta["noise"], meta["certifier"],
                meta["norm"], float(meta["alpha"]), r.idx, r.label, r.predict,
                lowest_radius_printed_as(r.radius_text) if lowered else r.radius,
                r.correct, r.seconds, source,
            )
            for r in table
        ]  # fmt: skip
        # the spec the file states, else that of the stored noise it names
        spec = meta.get("spec") or store.noise_specs().get(meta["noise"])
        _check_reachable(path, meta, spec, read)
        rows += read
        if meta.get("spec"):
            specs[meta["noise"]] = meta["spec"]
        spent = meta.get("confidence_spent")
        if spent is None:  # no export says: what the certifier spends, where known here
            spent = declared_spent(str(meta["certifier"]), spec, str(meta["norm"]))
        done.append(
            ImportedFile(
                source, meta["dataset"], meta["model"], meta["noise"], meta["certifier"],
                meta["norm"], float(meta["alpha"]), len(table), lowered,
                bool(meta.get("incomplete")), spent,
            )
        )  # fmt: skip
    _check_range(store, rows)
    _check_embedded(rows)
    _check_labels(store, rows)
    store.put_imported(
        rows,
        noises=specs,
        incomplete=[f.source for f in done if f.incomplete],
        spent={
            (f.model, f.noise, f.certifier, f.norm, f.alpha, f.source): f.confidence_spent
            for f in done
        },
    )
    return done


def _check_embedded(rows: list[ImportedRow]) -> None:
    """Rows of the embedded digits (known here without a download) name test images, with
    their labels: a file that certifies a training image, or gives an image another
    label (another order or split of the digits), is refused."""
    digits = [r for r in rows if r.dataset == "digits"]
    if not digits:
        return
    data = load_digits()
    test = {int(i) for i in data.test_indices}
    for r in digits:
        if r.image not in test:
            raise ValueError(
                f"{r.source}: image {r.image} is not a test image of the digits (its "
                "stratified split; indices in the order of sklearn.datasets.load_digits): "
                "only test images join a leaderboard (nothing was imported)"
            )
        if r.image < len(data.labels) and int(data.labels[r.image]) != r.label:
            raise ValueError(
                f"{r.source}: image {r.image} has label {r.label}, but digit {r.image} is "
                f"a {int(data.labels[r.image])}: the file indexes another order of the "
                "digits (nothing was imported)"
            )


def _check_reachable(
    path: Path, meta: dict[str, Any], spec: dict[str, Any] | None, rows: list[ImportedRow]
) -> None:
    """No radius of a file above ``largest_radius`` of its certifier and the noise of
    ``spec`` (with ``REACH_SLACK``): such a radius is no certificate of the kind the
    file claims, and would count as certified at every radius of a leaderboard."""
    if not rows:
        return
    top = largest_radius(str(meta["certifier"]), spec, str(meta["norm"]))
    if top is None:
        return
    worst = max(rows, key=lambda r: r.radius)
    if worst.radius > top * (1 + REACH_SLACK):
        raise ValueError(
            f"{path}: image {worst.image} has radius {worst.radius:g}, but {meta['certifier']} "
            f"certifies at most {top:.4g} for {meta['noise']} against {meta['norm']} at any "
            "number of draws (its radius as p_lower approaches 1): not a certificate of the "
            "kind the file claims; check --certifier, --noise and --norm (nothing was imported)"
        )


def _check_range(store: Store, rows: list[ImportedRow]) -> None:
    """Every label and prediction a class of the row's dataset, every image index one of
    its images (``baselines.datasets.CLASSES``, ``IMAGES``): a file of another dataset,
    imported under this one's name, is refused, not stored beside it. A store run on
    another copy of the test set (its manifest's ``data_caveat``: the loaders accept one
    of any size) bounds no index, and images a store holds are always in range."""
    held = 0  # one past the largest image index the store holds
    for table in ("counts", "deterministic_radii"):
        if store.has_table(table):
            ((top,),) = store.query(f"SELECT MAX(image) FROM {table}")
            if top is not None:
                held = max(held, int(top) + 1)
    other_copy = store.get_manifest("data_caveat") is not None
    for r in rows:
        classes, images = CLASSES.get(r.dataset), IMAGES.get(r.dataset)
        if classes is not None and not (r.label < classes and r.prediction < classes):
            raise ValueError(
                f"{r.source}: image {r.image} has label {r.label} and prediction "
                f"{r.prediction}, but {r.dataset} has {classes} classes (0 to {classes - 1}): "
                "a file of another dataset? (nothing was imported)"
            )
        if images is not None and not other_copy and r.image >= max(images, held):
            raise ValueError(
                f"{r.source}: image index {r.image}, but {r.dataset} has {images:,} images "
                f"(0 to {images - 1}): a file of another dataset? (nothing was imported)"
            )


def _check_labels(store: Store, rows: list[ImportedRow]) -> None:
    """Imported rows meet the store's by image index, so an index must name the same image:
    the label each row gives must be the one the store holds for that index (from its
    counts, deterministic radii or earlier imports) and the one the other files give. A
    file made on another order or copy of the test set is refused, not paired image by
    image with images it never saw."""
    known: dict[int, tuple[int, str]] = {}
    for table in ("counts", "deterministic_radii"):
        if store.has_table(table):
            for image, label in store.query(f"SELECT DISTINCT image, label FROM {table}"):
                known.setdefault(int(image), (int(label), f"the store's {table} rows"))
    # earlier imports, but for the groups of a file imported again, which its rows replace
    replaced = {(r.model, r.noise, r.certifier, r.norm, float(r.alpha), r.source) for r in rows}
    for image, label, *group in store.query(
        "SELECT image, label, model, noise, certifier, norm, alpha, source FROM imported"
    ):
        if (*group[:4], float(group[4]), group[5]) not in replaced:
            known.setdefault(int(image), (int(label), "the store's imported rows"))
    for r in rows:
        label, where = known.setdefault(r.image, (r.label, f"the rows of {r.source}"))
        if label != r.label:
            raise ValueError(
                f"{r.source} gives image {r.image} label {r.label}, but {where} have "
                f"label {label} there: the file indexes another order or copy of the test "
                "set (nothing was imported)"
            )
