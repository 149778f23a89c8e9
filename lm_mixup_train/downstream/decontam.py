"""Training-data hygiene: refuse a candidate whose rows share n-grams with the test sets it is evaluated on.

The check is ``distill``'s decontamination (:mod:`mixture_builder.distill.decont`): each local benchmark's
(question, answer) pairs are indexed by ``BenchmarkIndexer`` with datatrove's n-gram hashing, and every
candidate row (prompt + response) goes through datatrove's ``NGramsDecontFilter``.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from datatrove.data import Document

from mixture_builder.distill.decont import BenchmarkIndexer, decont_filter, task_name
from mixture_builder.errors import InputError

from .candidates import CandidateData
from .config import DecontSettings
from .registry import benchmark_pairs


def build_index(tasks: dict[str, list[Path]], work_dir: Path, n_grams: int) -> Path:
    """Index the test sets of ``tasks`` (name → benchmark files) under ``work_dir``; returns the index folder."""
    index = work_dir / f"index-{n_grams}"
    test_sets = []
    for name, files in sorted(tasks.items()):
        path = work_dir / name / "test.jsonl"
        if not path.is_file():
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".tmp")
            with tmp.open("w", encoding="utf-8") as handle:
                for question, answer in benchmark_pairs(name, files):
                    handle.write(json.dumps({"question": question, "answer": answer}) + "\n")  # ASCII: no raw U+2028
            tmp.rename(path)
        test_sets.append(str(path))
    missing = [p for p in test_sets if not (index / f"{task_name(p)}.index.hashes").is_file()]
    if missing:
        for _ in BenchmarkIndexer(str(index), missing, n_grams=n_grams).run(None):
            pass
    return index


def overlap_counts(data: CandidateData, index: Path, n_grams: int) -> dict[str, int]:
    """Rows of the candidate overlapping each indexed benchmark (``{task: rows}``; empty when clean)."""
    step = decont_filter(str(index), n_grams=n_grams)
    counts: Counter[str] = Counter()
    for i, example in enumerate(data.examples):
        doc = Document(text=f"{example.prompt_text}\n\n{example.response_text}", id=str(i))
        if step.filter(doc) is not True:
            counts[str(doc.metadata["contaminated_task"]).removesuffix("_test")] += 1
    return dict(counts)


def check_candidate(data: CandidateData, tasks: dict[str, list[Path]], work_dir: Path,
                    settings: DecontSettings) -> dict[str, int]:
    """The overlap counts; raises a one-line :class:`InputError` when they exceed ``max_overlap``."""
    if not settings.enabled or not tasks:
        return {}
    counts = overlap_counts(data, build_index(tasks, work_dir, settings.n_grams), settings.n_grams)
    total = sum(counts.values())
    if total > settings.max_overlap:
        detail = ", ".join(f"{task} {n}" for task, n in sorted(counts.items()))
        raise InputError(
            f"{total} training rows share {settings.n_grams}-grams with the benchmark test sets ({detail}); "
            "refusing to evaluate on data it was trained on",
            path=data.spec.path, field=f"candidates[{data.spec.name}]",
            fix="decontaminate the candidate (distill's decontamination.test_sets) or drop those tasks")
    return counts
