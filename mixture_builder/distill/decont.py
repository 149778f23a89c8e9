"""n-gram decontamination against local benchmark test sets, with datatrove's ``NGramsDecontFilter``.

datatrove's own ``NGramsDecontIndexer`` fetches its benchmarks through lighteval (from the Hub); here the
benchmarks are local files (e.g. GSM8K's ``test.jsonl`` or AlpaGasus' ``test_data/*.jsonl``), so
``BenchmarkIndexer`` writes the same ``{task}.index.hashes`` files from them, with the same n-gram hashing
(``NGramsDecontConfig``: text normalisation, word tokenizer, xxhash), and the stock filter reads them.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from datatrove.data import DocumentsPipeline
from datatrove.pipeline.base import PipelineStep

from mixture_builder.errors import InputError

QUERY_FIELDS = ("question", "prompt", "instruction", "text", "query", "input", "problem")
"""Benchmark fields read as the question, first match wins (case-insensitive)."""
LABEL_FIELDS = ("answer", "output", "response", "target", "completion", "solution")
"""Benchmark fields read as the gold answer, first match wins (case-insensitive)."""


def benchmark_items(path: str | Path) -> Iterator[tuple[str, str | None]]:
    """``(query, label or None)`` of every record of a JSON / JSONL benchmark file."""
    path = Path(path)
    if not path.is_file():
        raise InputError("benchmark file not found", path=str(path), field="decontamination.test_sets",
                         fix="give existing JSON/JSONL files")
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".json":
        records: list[Any] = json.loads(text)
        if isinstance(records, dict):
            records = next((v for v in records.values() if isinstance(v, list)), [records])
        numbered = list(enumerate(records, start=1))
    else:
        numbered = []
        for line_no, line in enumerate(text.splitlines(), start=1):
            if line.strip():
                try:
                    numbered.append((line_no, json.loads(line)))
                except json.JSONDecodeError as error:
                    raise InputError(f"not valid JSON ({error.msg})", path=str(path), line=line_no,
                                     fix="fix or remove the line") from error
    for line_no, record in numbered:
        if not isinstance(record, dict):
            raise InputError("expected a JSON object", path=str(path), line=line_no)
        lowered = {str(k).lower(): v for k, v in record.items()}
        query = next((str(lowered[k]) for k in QUERY_FIELDS if isinstance(lowered.get(k), str)), None)
        label = next((str(lowered[k]) for k in LABEL_FIELDS if isinstance(lowered.get(k), str)), None)
        instances = lowered.get("instances")
        if isinstance(instances, list) and instances and isinstance(instances[0], dict):
            extra = instances[0].get("input") or ""
            query = f"{query}\n{extra}".strip() if query else extra or None
            label = label or instances[0].get("output")
        if query is None and label is None:
            raise InputError("no question or answer field", path=str(path), line=line_no,
                             fix=f"name the question one of {', '.join(QUERY_FIELDS)}")
        yield query or "", label


def task_name(path: str | Path) -> str:
    """Index name of a benchmark file: ``gsm8k/test.jsonl`` → ``gsm8k_test``."""
    path = Path(path)
    return f"{path.parent.name}_{path.stem}".replace(" ", "_").replace(":", "_")


class BenchmarkIndexer(PipelineStep):
    """Write datatrove n-gram decontamination indexes (``{task}.index.hashes``) for local benchmark files."""

    type = "🦠 - DECONT"
    name = "💥 N-grams index of local benchmarks"

    def __init__(self, output_folder: str, test_sets: list[str], n_grams: int = 12, find_query_ngrams: bool = True):
        super().__init__()
        from datatrove.pipeline.decont.n_grams import NGramsDecontConfig
        from datatrove.utils.hashing import create_hash_func
        from datatrove.utils.word_tokenizers import load_word_tokenizer

        self.output_folder = output_folder
        self.test_sets = list(test_sets)
        self.config = NGramsDecontConfig(n_grams=n_grams, find_query_ngrams=find_query_ngrams)
        self.tokenizer = load_word_tokenizer("en")
        self.hash_func = create_hash_func(self.config.hash_config)

    def compute_hashes(self, label: str, query: str | None = None) -> list[int]:
        """datatrove's n-gram hashing of a (query, label) pair (``NGramsDecontIndexer.compute_hashes``)."""
        from datatrove.pipeline.decont.n_grams import NGramsDecontIndexer

        return NGramsDecontIndexer.compute_hashes(self, label, query)  # same code, no lighteval import

    def run(self, data: DocumentsPipeline = None, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        import numpy as np

        if data:
            yield from data
        if rank != 0:
            return
        out = Path(self.output_folder)
        out.mkdir(parents=True, exist_ok=True)
        for path in self.test_sets:
            hashes: set[int] = set()
            count = 0
            for query, label in benchmark_items(path):
                hashes.update(self.compute_hashes(label or "", query or None))
                count += 1
            self.stat_update("benchmark_items", value=count)
            array = np.array(sorted(hashes), dtype=self.config.hash_config.np_descr)
            array.tofile(out / f"{task_name(path)}.index.hashes")


def decont_filter(index_folder: str, n_grams: int = 12, find_query_ngrams: bool = True, exclusion_writer=None):
    """datatrove's ``NGramsDecontFilter`` reading the indexes of ``BenchmarkIndexer`` (drop reason
    ``contaminated``; per-benchmark counts ``contaminated_{task}``)."""
    from datatrove.pipeline.decont.n_grams import NGramsDecontConfig, NGramsDecontFilter

    config = NGramsDecontConfig(n_grams=n_grams, find_query_ngrams=find_query_ngrams)
    step = NGramsDecontFilter(index_folder, config=config, exclusion_writer=exclusion_writer)
    step.step_id = "decontaminate"
    return step
