"""The rated-sample library of the k-NN quality reward: build it from a rated dataset, save, load.

On disk a library is two files with one stem: ``{stem}.npz`` (``embeddings`` float32, ``scores`` int 0–5,
``texts``) and ``{stem}.json`` (embedding model, counts per score, sources).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from lm_mixup_train.data import load_mixture
from mixture_builder.errors import InputError
from mixture_builder.teacher.config import TeacherConfig

from .. import embedding
from .knn_scorer import NUM_SCORES
from .llm_rating import rate_texts


@dataclass
class QualityLibrary:
    """Rated samples: L2-normalised ``embeddings`` ``(n, d)`` and integer ``scores`` 0–5."""

    embeddings: np.ndarray
    scores: np.ndarray
    texts: list[str]
    meta: dict[str, Any] = field(default_factory=dict)

    @staticmethod
    def stem(path: str | Path) -> Path:
        """``lib``, ``lib.npz`` and ``lib.json`` all name the library ``lib``."""
        path = Path(path)
        return path.with_suffix("") if path.suffix in (".npz", ".json") else path

    def save(self, path: str | Path) -> Path:
        """Write ``{stem}.npz`` and ``{stem}.json``; returns the ``.npz`` path."""
        stem = self.stem(path)
        stem.parent.mkdir(parents=True, exist_ok=True)
        np.savez_compressed(
            stem.with_suffix(".npz"),
            embeddings=self.embeddings.astype(np.float32),
            scores=self.scores.astype(np.int8),
            texts=np.array(self.texts, dtype=object),
        )
        stem.with_suffix(".json").write_text(json.dumps(self.meta, indent=2) + "\n")
        return stem.with_suffix(".npz")

    @classmethod
    def load(cls, path: str | Path) -> QualityLibrary:
        """Read a library written by :meth:`save`."""
        stem = cls.stem(path)
        npz = stem.with_suffix(".npz")
        if not npz.is_file():
            raise InputError(
                "quality library not found", path=str(npz), fix="build one with `lm-mixup train build-quality-library`"
            )
        with np.load(npz, allow_pickle=True) as data:
            embeddings, scores, texts = data["embeddings"], data["scores"].astype(np.int64), list(data["texts"])
        meta_path = stem.with_suffix(".json")
        meta = json.loads(meta_path.read_text()) if meta_path.is_file() else {}
        return cls(embeddings=embeddings, scores=scores, texts=[str(t) for t in texts], meta=meta)


def build_library(
    samples: Iterable[tuple[str, int]], *, model_name: str | None = None, source: str = "", batch_size: int = 64
) -> QualityLibrary:
    """Embed ``(text, score)`` pairs into a library. A text seen twice keeps its first score."""
    rated: dict[str, int] = {}
    for text, score in samples:
        if text.strip() and text not in rated:
            rated[text] = score
    if not rated:
        raise InputError("no rated samples to build a quality library from", path=source or None)
    texts = list(rated)
    scores = np.array([rated[t] for t in texts], dtype=np.int64)
    vectors = embedding.embed(texts, model_name, batch_size, cache=False)
    counts = Counter(int(s) for s in scores)
    meta = {
        "embedding_model": model_name,
        "count": len(texts),
        "dim": int(vectors.shape[1]),
        "score_counts": {str(s): counts.get(s, 0) for s in range(NUM_SCORES)},
        "source": source,
    }
    return QualityLibrary(embeddings=vectors, scores=scores, texts=texts, meta=meta)


def mixture_samples(
    dataset: str,
    *,
    revision: str | None = None,
    input_score: int | None = None,
    rater: TeacherConfig | None = None,
    known_scores: dict[str, int] | None = None,
    splits: tuple[str, ...] = ("train",),
    stats: Counter | None = None,
) -> list[tuple[str, int]]:
    """Rated samples from a MIXTURE dataset (folder or Hub repo): each target ``output`` with its ``quality``,
    and each low-quality cluster item in ``inputs`` with its own score: from ``known_scores`` (text → score)
    where it is there, else rated by ``rater`` (the teacher's quality rater, default the embedded model; cached
    by the teacher) with the record's task type as hint. ``input_score`` instead labels every item with that
    fixed score. Items whose rating fails are left out and counted in ``stats["unrated_inputs"]``."""

    if input_score is not None:
        check_score(input_score, "input_score", dataset)
    stats = stats if stats is not None else Counter()
    samples: list[tuple[str, int]] = []
    items: dict[str, str] = {}  # item text → task type of its first record
    for config in ("sft", "grpo"):
        for split in splits:
            for n, row in enumerate(load_mixture(dataset, config, split, revision=revision)):
                samples.append((row["output"], check_score(row["quality"], "quality", dataset, record=n)))
                for item in row["inputs"] or []:
                    if isinstance(item, str) and item.strip():
                        items.setdefault(item, row["task_type"])
    samples.extend((text, score) for text, score in item_scores(items, input_score, rater, known_scores, stats))
    return samples


def item_scores(
    items: dict[str, str],
    input_score: int | None,
    rater: TeacherConfig | None,
    known_scores: dict[str, int] | None,
    stats: Counter,
) -> list[tuple[str, int]]:
    """``(item, score)`` for each item (text → task type): fixed, known, or rated (see :func:`mixture_samples`)."""
    if input_score is not None:
        stats["fixed_inputs"] += len(items)
        return [(text, input_score) for text in items]
    known = known_scores or {}
    scored = [(text, known[text]) for text in items if text in known]
    stats["known_inputs"] += len(scored)
    todo = [text for text in items if text not in known]
    if todo:
        config = (rater or TeacherConfig()).to_dict()
        for text, score in zip(todo, rate_texts(todo, config, [items[text] for text in todo])):
            if score is None:
                stats["unrated_inputs"] += 1
            else:
                stats["rated_inputs"] += 1
                scored.append((text, score))
    return scored


def table_samples(
    path: str | Path,
    *,
    text_field: str = "text",
    score_field: str = "score",
    on_error: str = "raise",
    skipped: Counter | None = None,
) -> Iterator[tuple[str, int]]:
    """Rated samples from a JSONL, JSON-array, Parquet or CSV file with a text and an integer score 0–5 column.
    ``on_error="skip"`` skips bad rows and counts them per reason in ``skipped``."""
    import datasets

    path = Path(path)
    kinds = {".jsonl": "json", ".json": "json", ".parquet": "parquet", ".csv": "csv"}
    if path.suffix not in kinds:
        raise InputError(f"unsupported file type {path.suffix!r}", path=str(path), fix="use .jsonl, .json, .parquet or .csv")
    table = datasets.load_dataset(kinds[path.suffix], data_files=str(path), split="train")
    for name in (text_field, score_field):
        if name not in table.column_names:
            raise InputError(
                f"column missing (columns: {', '.join(table.column_names)})",
                path=str(path),
                field=name,
                fix="pass --text-field/--score-field",
            )
    for n, row in enumerate(table):
        try:
            text = row[text_field]
            if not isinstance(text, str):
                raise InputError("text is not a string", path=str(path), record=n, field=text_field)
            yield text, check_score(row[score_field], score_field, str(path), record=n)
        except InputError as error:
            if on_error != "skip":
                raise
            if skipped is not None:
                skipped[f"dropped_{error.field}"] += 1


def check_score(value: Any, field_name: str, where: str, record: int | None = None) -> int:
    """``value`` as an integer score 0–5, or an :class:`InputError` naming the record and field."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) or value != int(value):
        raise InputError(f"score {value!r} is not an integer", path=where, record=record, field=field_name, fix="use 0–5")
    if not 0 <= int(value) < NUM_SCORES:
        raise InputError(f"score {value} is out of range", path=where, record=record, field=field_name, fix="use 0–5")
    return int(value)


def build_quality_library(
    source: str,
    output: str | Path,
    *,
    revision: str | None = None,
    text_field: str = "text",
    score_field: str = "score",
    input_score: int | None = None,
    rater: TeacherConfig | None = None,
    scores_file: str | Path | None = None,
    model_name: str | None = None,
    on_error: str = "raise",
) -> QualityLibrary:
    """Build and save a library from ``source``: a MIXTURE folder or Hub repo (targets with their quality, and
    the low-quality inputs rated by ``rater`` — or scored from ``scores_file``, a rated file with the same
    columns as below, or all labelled ``input_score`` when given) or a rated JSONL/JSON/Parquet/CSV file.
    Returns the saved library; its ``meta["inputs"]`` says how the inputs were scored."""
    path = Path(source)
    skipped: Counter = Counter()
    inputs: Counter = Counter()
    if path.is_file():
        samples = table_samples(
            path, text_field=text_field, score_field=score_field, on_error=on_error, skipped=skipped
        )
    else:
        known = None
        if scores_file is not None:
            known = dict(table_samples(Path(scores_file), text_field=text_field, score_field=score_field,
                                       on_error=on_error, skipped=skipped))
        samples = mixture_samples(source, revision=revision, input_score=input_score, rater=rater,
                                  known_scores=known, stats=inputs)
    library = build_library(samples, model_name=model_name, source=source)
    library.meta["skipped"] = dict(skipped)
    if inputs:
        library.meta["inputs"] = {kind: n for kind, n in inputs.items() if n}
        if inputs["rated_inputs"] or inputs["unrated_inputs"]:
            library.meta["input_rater"] = (rater or TeacherConfig()).model_id
    library.save(output)
    return library
