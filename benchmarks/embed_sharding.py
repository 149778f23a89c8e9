"""How the sharded ``embed`` stage scales with tasks on this machine, torch threads per task held apart.

    python benchmarks/embed_sharding.py [--n 3000] [--batch-size 16]

Embeds the first N records of ``distill_scale.py``'s pool (instruction+input+output, real records round-robin
over ``../shared/data/raw``'s instruction pools) with :class:`EmbedStep` under datatrove's ``LocalPipelineExecutor``, as
``distill``'s embed stage runs, in three set-ups:

- ``1 task x all cores``: one task, torch using every core (what ``distill`` does with ``tasks: 1``);
- ``1 task x 1 thread``: one task, one torch thread;
- ``T tasks x 1 thread``: one task per core run at once, one torch thread each (``distill`` with ``tasks: T``).

Sharding speed-up = time of a one-task set-up / time of the T-task one. With one task torch already spreads
its matrix products over the cores, so the first speed-up is bounded by how much better processes scale
than torch's threads; the second is the scaling of the sharding itself. Last line: one JSON object.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import sys
import tempfile
import time
from pathlib import Path

from datatrove.executor import LocalPipelineExecutor
from datatrove.pipeline.base import PipelineStep

sys.path.insert(0, str(Path(__file__).resolve().parent))

from distill_scale import real_records, stream_records

from mixture_builder.clustering.steps import EmbedStep
from mixture_builder.records import make_instruction


class RankSlice(PipelineStep):
    """Yields the documents of this task's rank (every world_size-th one)."""

    name = "rank slice"

    def __init__(self, rows: list[dict[str, str]]) -> None:
        super().__init__()
        self.rows = rows

    def run(self, data=None, rank: int = 0, world_size: int = 1):
        for i in range(rank, len(self.rows), world_size):
            row = self.rows[i]
            yield make_instruction(instruction=row["instruction"], input=row["input"], output=row["output"],
                                   source=row["source"], license="", source_id=i)


def timed_run(rows: list[dict[str, str]], tasks: int, threads: int | None, batch_size: int) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        executor = LocalPipelineExecutor(
            [RankSlice(rows), EmbedStep(f"{tmp}/vectors", batch_size=batch_size, threads=threads)],
            tasks=tasks, workers=tasks, logging_dir=f"{tmp}/logs")
        start = time.perf_counter()
        executor.run()
        return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=3000)
    parser.add_argument("--batch-size", type=int, default=16)
    args = parser.parse_args()
    real, _ = real_records()
    rows = [{**row, "source": source} for source, row, _ in itertools.islice(stream_records(real), args.n)]
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    seconds = {
        "1_task_all_cores": timed_run(rows, 1, cores, args.batch_size),
        "1_task_1_thread": timed_run(rows, 1, 1, args.batch_size),
        f"{cores}_tasks_1_thread": timed_run(rows, cores, 1, args.batch_size),
    }
    for name, value in seconds.items():
        print(f"{name:>18}: {value:7.1f} s  {len(rows) / value:6.1f} texts/s")
    sharded = seconds[f"{cores}_tasks_1_thread"]
    speedups = {"vs_1_task_all_cores": seconds["1_task_all_cores"] / sharded,
                "vs_1_task_1_thread": seconds["1_task_1_thread"] / sharded}
    print(f"{cores} tasks vs 1 task with all cores: {speedups['vs_1_task_all_cores']:.2f}x; "
          f"vs 1 task with 1 thread: {speedups['vs_1_task_1_thread']:.2f}x")
    print(json.dumps({"texts": len(rows), "cores": cores, "seconds": {k: round(v, 1) for k, v in seconds.items()},
                      **{f"speedup_{k}": round(v, 3) for k, v in speedups.items()}}))


if __name__ == "__main__":
    main()
