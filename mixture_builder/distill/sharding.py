"""Record-level shards between distill's stages, so a stage's output does not depend on its number of tasks.

datatrove's readers shard by file; a pool is often one file, and a whole-dataset stage writes one. So stages
whose successor is sharded write with :class:`ShardedWriter` (``{rank}_{shard}.jsonl.gz``, ``shard`` a stable
hash of the record id modulo the successor's tasks) and the successor reads with :class:`ShardedReader`
(task ``r`` reads every ``*_{r}.jsonl.gz``). Pool readers start at a different task per pool
(:class:`PoolReader`), so single-file pools are read in parallel.
"""

from __future__ import annotations

import zlib

from datatrove.data import Document, DocumentsPipeline
from datatrove.pipeline.writers import JsonlWriter

from mixture_builder.distill.steps import StageOutputReader
from mixture_builder.readers.steps import RawReader

SHARDED_NAME = "${rank}_${shard}.jsonl.gz"


def shard_of(doc_id: str, shards: int) -> int:
    """The shard of a record id: stable across runs, machines and task counts."""
    return zlib.crc32(doc_id.encode("utf-8")) % shards


class ShardedWriter(JsonlWriter):
    """gzip JSONL writer filing each record under its id's shard (``{rank:05d}_{shard:05d}.jsonl.gz``)."""

    name = "🐿 Jsonl (sharded by id)"

    def __init__(self, output_folder: str, shards: int) -> None:
        super().__init__(output_folder, output_filename=SHARDED_NAME, compression="gzip")
        self.shards = shards

    def write(self, document: Document, rank: int = 0, **kwargs) -> None:
        super().write(document, rank, shard=f"{shard_of(document.id, self.shards):05d}", **kwargs)


class ShardedReader(StageOutputReader):
    """Reads the shard of this task (``*_{rank:05d}.jsonl.gz``) of a :class:`ShardedWriter` output, in file
    order; run it with as many tasks as the writer's ``shards``."""

    name = "🐿 Jsonl (id shard)"

    def __init__(self, data_folder: str) -> None:
        super().__init__(data_folder, glob_pattern="*.jsonl.gz", compression="gzip")

    def run(self, data: DocumentsPipeline = None, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        if data:
            yield from data
        if not self.data_folder.isdir(""):
            return
        files = sorted(self.data_folder.list_files(glob_pattern=f"*_{rank:05d}.jsonl.gz"))
        for doc in self.read_files_shard(files):
            self.update_doc_stats(doc)
            yield doc


class PoolReader(RawReader):
    """``RawReader`` whose file shards start at task ``offset`` (the pool's index), so pools of one file each
    are read by different tasks."""

    def __init__(self, *args, offset: int = 0, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.offset = offset

    def run(self, data: DocumentsPipeline = None, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        yield from super().run(data, (rank - self.offset) % world_size, world_size)
