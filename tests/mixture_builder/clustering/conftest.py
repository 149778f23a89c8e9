"""Fixtures of the clustering tests: synthetic topical embeddings and real instruction records."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from mixture_builder.records import make_instruction


def topical_embeddings(n: int, dim: int = 64, topics: int | None = None, seed: int = 0) -> np.ndarray:
    """``n`` unit vectors around ``topics`` random topic centres (noise of cosine ~0.6 to the centre)."""
    rng = np.random.default_rng(seed)
    topics = topics or max(1, n // 40)
    centres = rng.standard_normal((topics, dim)).astype(np.float32)
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    noise = rng.standard_normal((n, dim)).astype(np.float32) * (1.2 / np.sqrt(dim))
    x = centres[rng.integers(0, topics, n)] + noise
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def load_alpaca_records(path: Path, source: str, limit: int | None = None) -> list:
    """Instruction records of an Alpaca-format JSON list (instruction/input/output)."""
    rows = json.loads(path.read_text())
    if limit is not None:
        rows = rows[:limit]
    return [
        make_instruction(instruction=row.get("instruction", ""), input=row.get("input", "") or "",
                         output=row.get("output", ""), source=source, license="cc-by-nc-4.0", source_id=i)
        for i, row in enumerate(rows)
    ]


@pytest.fixture
def embeddings_factory():
    return topical_embeddings


def load_toolformer_records(path: Path, limit: int | None = None) -> list:
    """GPTeacher Toolformer records (``instruction``/``input``/``response``)."""
    rows = json.loads(path.read_text())[:limit]
    return [
        make_instruction(instruction=row["instruction"], input=row.get("input", ""), output=row["response"],
                         source="gpteacher_toolformer", license="mit", source_id=i)
        for i, row in enumerate(rows)
    ]


def write_jsonl_shards(folder: Path, shards: dict[str, list]) -> None:
    """Write documents to ``folder/{name}`` JSONL files with datatrove's writer (one file per shard)."""
    from datatrove.pipeline.writers import JsonlWriter

    for name, docs in shards.items():
        with JsonlWriter(str(folder), output_filename=name, compression=None) as writer:
            for doc in docs:
                writer.write(doc)


def read_jsonl_folder(folder: Path) -> list[dict]:
    """All JSON lines of the ``*.jsonl`` files of ``folder`` (sorted by file name)."""
    return [json.loads(line) for path in sorted(folder.glob("*.jsonl")) for line in path.open()]


def in_process_executors(work_dir: Path):
    """An executor factory running every stage in this process (tasks one after another)."""
    from mixture_builder.clustering.pipelines import local_executor_factory

    return local_executor_factory(work_dir, workers=1)
