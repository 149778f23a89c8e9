"""A datatrove rating job for the crash test: n records → ``QualityRater`` → JSONL (run as a subprocess)."""

from __future__ import annotations

import sys

from datatrove.executor import LocalPipelineExecutor
from datatrove.pipeline.writers import JsonlWriter

from mixture_builder.records import make_instruction
from mixture_builder.teacher.config import TeacherConfig
from mixture_builder.teacher.rater import QualityRater


def main(base_url: str, work: str, n: int) -> None:
    config = TeacherConfig(backend="openai", base_url=base_url, model="fake-model", max_concurrency=4,
                           reorder_window=32, cache_path=f"{work}/cache.sqlite", failed_path=f"{work}/failed.jsonl",
                           progress=False)
    docs = [make_instruction(instruction=f"Question {i}?", output=f"Answer {i}.", source="unit", license="cc0",
                             source_id=i) for i in range(n)]
    LocalPipelineExecutor(pipeline=[docs, QualityRater(config), JsonlWriter(f"{work}/out", compression=None)],
                          tasks=1, logging_dir=f"{work}/logs").run()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]))
