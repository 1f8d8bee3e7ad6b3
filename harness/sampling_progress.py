"""How far the sampling of a store has come: the images the run planned (its index set)
and, per sampled model, those with counts under every noise the run planned for it (the
manifest's ``sampled_noises``; in a store written before it was recorded, every noise
the model has counts for). ``smoothbench report``, ``certify`` and ``export`` state the
gap; a read of the store only, so that ``reports`` may use it."""

from __future__ import annotations

from dataclasses import dataclass, field

from harness.store import Store, store_writer


@dataclass(frozen=True)
class SamplingProgress:
    """How far the sampling of a store has come: ``planned``, the images of the run's
    index set (None when the store records none, e.g. one holding imported rows only);
    ``sampled``, per smoothed model, the images of that set with counts under every noise
    the run planned for it (``sampled_noises``; else every noise it has counts for)."""

    planned: int | None
    sampled: dict[str, int]
    #: The process writing the store now (``process 123``), or None: a gap then is the
    #: progress of a run, not what a stopped one left.
    writer: str | None = None
    #: Per short model whose planned noises are not all short (an extension that adds
    #: noises, stopped part-way): each noise short of the planned images and the planned
    #: images it has, so that the gap is not read as one of its complete noises' rows.
    short_noises: dict[str, tuple[tuple[str, int], ...]] = field(default_factory=dict)
    #: The models of ``short_noises`` whose other planned noises hold every image.
    others_complete: frozenset[str] = frozenset()

    @property
    def short(self) -> dict[str, int]:
        """The models short of the planned images."""
        if self.planned is None:
            return {}
        return {m: k for m, k in self.sampled.items() if k < self.planned}

    def gap(self) -> str | None:
        """``20 of 100 images`` (of the one sampled model), ``a: 20 of 100 images, b: 0 of
        100`` (of each model short of them, where several are sampled), or None when
        complete (or when the store records no index set). A model whose other noises
        hold every image, or whose noises hold other counts, names the short ones:
        ``20 of 100 images under laplace(...), 5 of 100 under uniform_ball(...) (all 100
        under its other noises)``."""
        short = self.short
        if not short:
            return None

        def of(model: str, k: int, first: bool) -> str:
            images = " images" if first else ""
            noises = self.short_noises.get(model)
            if not noises:
                return f"{k} of {self.planned}{images}"
            rest = f" (all {self.planned} under its other noises)"
            return ", ".join(
                f"{held} of {self.planned}{images if i == 0 else ''} under {noise}"
                for i, (noise, held) in enumerate(noises)
            ) + (rest if model in self.others_complete else "")

        if len(self.sampled) == 1:
            ((model, k),) = short.items()
            return of(model, k, True)
        return ", ".join(f"{m}: {of(m, k, i == 0)}" for i, (m, k) in enumerate(short.items()))

    def summary(self) -> str | None:
        """``sampling incomplete: 20 of 100 images (model: 20)``, or None."""
        gap = self.gap()
        return None if gap is None else f"sampling incomplete: {gap}"

    def warning(self) -> str | None:
        """The ``summary`` and how to resume, or None."""
        summary = self.summary()
        if summary is None:
            return None
        if self.writer is not None:
            return f"{summary}; {self.writer} is writing this store now: its results so far"
        return f"{summary}; `smoothbench run` with the same config and store resumes"


def sampling_progress(store: Store) -> SamplingProgress:
    """The images the run planned and those each smoothed model has been sampled on (as
    ``smoothbench report`` counts them)."""
    index_set = store.get_manifest("index_set")
    planned = set(map(int, index_set)) if index_set is not None else None
    models = [
        name
        for name, entry in (store.get_manifest("models") or {}).items()
        if not (isinstance(entry, dict) and entry.get("smoothing") is False)
    ]
    noises = dict(store.query("SELECT model, COUNT(DISTINCT noise) FROM counts GROUP BY model"))
    for model in noises:
        if model not in models:
            models.append(model)
    planned_noises = store.get_manifest("sampled_noises") or {}
    sampled: dict[str, int] = {}
    short_noises: dict[str, tuple[tuple[str, int], ...]] = {}
    others_complete: set[str] = set()
    for model in models:
        # the run's plan (an extension adds noises some images lack); in a store written
        # before the plan was recorded, the noises the model has counts of
        names = planned_noises.get(model) or []
        within = f" AND noise IN ({', '.join('?' * len(names))})" if names else ""
        rows = store.query(
            f"SELECT image FROM counts WHERE model = ?{within} GROUP BY image"
            " HAVING COUNT(DISTINCT noise) = ?",
            (model, *names, len(names) if names else noises.get(model, 0)),
        )
        images = {int(i) for (i,) in rows}
        sampled[model] = len(images & planned) if planned is not None else len(images)
        if planned is not None and sampled[model] < len(planned) and len(names) > 1:
            held: dict[str, set[int]] = {name: set() for name in names}
            for noise, image in store.query(
                f"SELECT DISTINCT noise, image FROM counts WHERE model = ?{within}",
                (model, *names),
            ):
                held[noise].add(int(image))
            lacking = tuple(
                (name, len(held[name] & planned)) for name in names if not planned <= held[name]
            )
            if len(lacking) < len(names):
                others_complete.add(model)
            if len(lacking) < len(names) or len({held for _, held in lacking}) > 1:
                short_noises[model] = lacking
    writer = store_writer(store.path) if store.readonly else None  # our own lock otherwise
    planned_count = None if planned is None else len(planned)
    return SamplingProgress(
        planned_count, sampled, writer, short_noises, frozenset(others_complete)
    )
