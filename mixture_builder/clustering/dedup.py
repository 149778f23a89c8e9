"""Exact and near-duplicate removal of instruction samples, keeping a link to the record each duplicates.

Both run as datatrove stages (separate pipeline runs chained with ``depends=``, like datatrove's MinHash), so
the same pipelines run under the local, Slurm or Ray executors:

* **exact**: :class:`IdIndexWriter` → datatrove ``ExactDedupSignature`` over :func:`normalised_content`
  (instruction + input + output, case- and whitespace-folded) → :class:`ExactDuplicateLinks` (one task per
  hash range) → :class:`DuplicateFilter`.
* **near**: :class:`IdIndexWriter` → datatrove ``MinhashDedupSignature`` → ``MinhashDedupBuckets`` →
  ``MinhashDedupCluster(save_cluster_id=True)`` + :class:`MinhashDuplicateLinks` → :class:`DuplicateFilter`.
  datatrove's MinHash tokenises with spacy and ignores digits (texts differing only in numbers collide).

A removed record gets ``metadata["duplicate_of"]`` = the id of the kept record and goes to the exclusion
writer, if any; the filter counts ``dropped_exact_duplicate`` / ``dropped_near_duplicate``. Links are files
``links/{rank:05d}/{worker:04d}.jsonl`` of ``{"doc": index in the task's stream, "id": …, "duplicate_of": …}``.
"""

from __future__ import annotations

import heapq
import json
import re
import struct
import unicodedata
from collections import defaultdict
from collections.abc import Iterable

import numpy as np
from datatrove.data import Document, DocumentsPipeline
from datatrove.io import DataFolderLike
from datatrove.pipeline.base import PipelineStep
from datatrove.pipeline.writers.disk_base import DiskWriter

from mixture_builder.clustering._io import datafolder
from mixture_builder.records import INSTRUCTION, instruction_fields

_SPACE = re.compile(r"\s+")


def normalised_content(doc: Document) -> str:
    """What exact dedup hashes: instruction, input and output (or the text), NFKC, lower-case, single spaces."""
    if doc.metadata.get("kind") == INSTRUCTION:
        parts = instruction_fields(doc)
    else:
        parts = (doc.text,)
    folded = (_SPACE.sub(" ", unicodedata.normalize("NFKC", p)).strip().lower() for p in parts)
    return "\x1f".join(folded)


class IdIndexWriter(PipelineStep):
    """Pass-through step writing each task's document ids in stream order (``{rank:05d}.ids``, one JSON
    string per line), so later stages can name a record from its (task, index) position."""

    name = "🪪 id index"
    type = "🫂 - DEDUP"

    def __init__(self, output_folder: DataFolderLike):
        super().__init__()
        self.output_folder = datafolder(output_folder)

    def run(self, data: DocumentsPipeline, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        with self.output_folder.open(f"{rank:05d}.ids", "wt") as out:
            for doc in data:
                out.write(json.dumps(doc.id) + "\n")
                yield doc


def resolve_ids(id_folder: DataFolderLike, wanted: dict[int, Iterable[int]]) -> dict[tuple[int, int], str]:
    """Ids at the given ``{task rank: document indices}`` positions, read from :class:`IdIndexWriter` files."""
    folder = datafolder(id_folder)
    found: dict[tuple[int, int], str] = {}
    for rank, indices in sorted(wanted.items()):
        todo = sorted({int(i) for i in indices})
        if not todo:
            continue
        pos = 0
        with folder.open(f"{rank:05d}.ids", "rt") as f:
            for line_no, line in enumerate(f):
                if line_no == todo[pos]:
                    found[(rank, line_no)] = json.loads(line)
                    pos += 1
                    if pos == len(todo):
                        break
        if pos != len(todo):
            raise ValueError(f"{folder.path}/{rank:05d}.ids: index {todo[pos]} missing — the id index and the "
                             "signatures come from different runs; delete the dedup work folder and rerun")
    return found


def write_links(
    folder: DataFolderLike, worker: int, removed: np.ndarray, kept: np.ndarray, id_folder: DataFolderLike
) -> int:
    """Write link files for ``removed`` / ``kept`` arrays of (task rank, doc index) rows; returns the count."""
    wanted: dict[int, list[int]] = defaultdict(list)
    for rank, doc in kept.tolist() + removed.tolist():
        wanted[rank].append(doc)
    ids = resolve_ids(id_folder, wanted)
    out = datafolder(folder)
    by_rank: dict[int, list[tuple[int, str, str]]] = defaultdict(list)
    for (rank, doc), (krank, kdoc) in zip(removed.tolist(), kept.tolist()):
        by_rank[rank].append((doc, ids[(rank, doc)], ids[(krank, kdoc)]))
    for rank, rows in by_rank.items():
        with out.open(f"{rank:05d}/{worker:04d}.jsonl", "wt") as f:
            for doc, doc_id, kept_id in sorted(rows):
                f.write(json.dumps({"doc": doc, "id": doc_id, "duplicate_of": kept_id}) + "\n")
    return len(removed)


class ExactDuplicateLinks(PipelineStep):
    """Exact dedup, second stage: group equal hashes of datatrove's ``ExactDedupSignature`` files and link
    every duplicate to the kept record (highest priority, then first task, then first in its task).

    Run with as many tasks as the signature step's ``finder_workers`` (each task owns one hash range)."""

    name = "🔗 exact duplicate links"
    type = "🫂 - DEDUP"

    def __init__(self, signatures_folder: DataFolderLike, links_folder: DataFolderLike, id_folder: DataFolderLike):
        super().__init__()
        self.signatures_folder = datafolder(signatures_folder)
        self.links_folder = datafolder(links_folder)
        self.id_folder = datafolder(id_folder)

    def run(self, data: DocumentsPipeline = None, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        from datatrove.pipeline.dedup.exact_dedup import get_sig_dtype
        from datatrove.utils.hashing import HashConfig

        dtype = get_sig_dtype(HashConfig())
        hashes, priorities, ranks, docs = [], [], [], []
        with self.track_time():
            for path in self.signatures_folder.list_files(subdirectory=f"{rank:04d}"):
                with self.signatures_folder.open(path, "rb") as f:
                    sigs = np.frombuffer(f.read(), dtype=dtype)
                file_rank = int(path.rsplit("/", 1)[-1].split(".", 1)[0])
                hashes.append(sigs["hash"])
                priorities.append(sigs["priority"])
                docs.append(sigs["doc"].astype(np.int64))
                ranks.append(np.full(len(sigs), file_rank, dtype=np.int64))
            if not hashes:
                return
            h, p, r, d = (np.concatenate(a) for a in (hashes, priorities, ranks, docs))
            self.stat_update("signatures", value=len(h))
            order = np.lexsort((d, r, -p.astype(np.int64), h))
            h, r, d = h[order], r[order], d[order]
            first = np.r_[True, h[1:] != h[:-1]]
            head = np.maximum.accumulate(np.where(first, np.arange(len(h)), 0))
            dup = ~first
            removed = np.stack([r[dup], d[dup]], axis=1)
            kept = np.stack([r[head[dup]], d[head[dup]]], axis=1)
            count = write_links(self.links_folder, rank, removed, kept, self.id_folder)
            self.stat_update("duplicates", value=count)
        return
        yield  # a generator step that yields nothing


class MinhashDuplicateLinks(PipelineStep):
    """Near dedup, after ``MinhashDedupCluster(save_cluster_id=True)`` (one task): links every record in its
    ``.remove`` files to the record its cluster keeps."""

    name = "🔗 near-duplicate links"
    type = "🫂 - DEDUP"

    def __init__(self, cluster_folder: DataFolderLike, links_folder: DataFolderLike, id_folder: DataFolderLike):
        super().__init__()
        self.cluster_folder = datafolder(cluster_folder)
        self.links_folder = datafolder(links_folder)
        self.id_folder = datafolder(id_folder)

    def run(self, data: DocumentsPipeline = None, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        if data is not None:  # pass through anything upstream (normally nothing)
            yield from data
        if world_size != 1:
            raise ValueError("MinhashDuplicateLinks needs exactly one task (tasks=1), like MinhashDedupCluster")
        with self.track_time():
            members: dict[int, list[tuple[int, int]]] = defaultdict(list)
            removed_set: set[tuple[int, int]] = set()
            for path in self.cluster_folder.list_files(glob_pattern="*.clusters"):
                file_rank = int(path.rsplit("/", 1)[-1].split(".")[0])
                for doc, cluster in _read_pairs(self.cluster_folder, path):
                    members[cluster].append((file_rank, doc))
            for path in self.cluster_folder.list_files(glob_pattern="*.remove"):
                file_rank = int(path.rsplit("/", 1)[-1].split(".")[0])
                with self.cluster_folder.open(path, "rb") as f:
                    removed_set.update((file_rank, doc) for doc in np.frombuffer(f.read(), dtype="<u4").tolist())
            removed, kept = [], []
            for nodes in members.values():
                keepers = [node for node in nodes if node not in removed_set]
                keeper = keepers[0] if keepers else heapq.nsmallest(1, nodes)[0]
                removed.extend(node for node in nodes if node != keeper)
                kept.extend(keeper for node in nodes if node != keeper)
            shape = (-1, 2)
            count = write_links(self.links_folder, 0, np.array(removed, dtype=np.int64).reshape(shape),
                                np.array(kept, dtype=np.int64).reshape(shape), self.id_folder)
            self.stat_update("duplicates", value=count)
            self.stat_update("clusters", value=len(members))


def _read_pairs(folder, path: str) -> list[tuple[int, int]]:
    with folder.open(path, "rb") as f:
        raw = f.read()
    return list(struct.iter_unpack("<II", raw))


class DuplicateFilter(PipelineStep):
    """Drops the records listed in link files (same tasks/sharding as the id index), setting
    ``metadata["duplicate_of"]``; counts ``dropped_{reason}`` and sends them to ``exclusion_writer``."""

    name = "🧹 duplicate filter"
    step_id = "duplicate_filter"
    type = "🫂 - DEDUP"

    def __init__(self, links_folder: DataFolderLike, reason: str = "duplicate",
                 exclusion_writer: DiskWriter | None = None):
        super().__init__()
        self.links_folder = datafolder(links_folder)
        self.reason = reason
        self.exclusion_writer = exclusion_writer

    def load_links(self, rank: int) -> dict[int, tuple[str, str]]:
        """``{doc index: (id, id of the kept record)}`` of this task's removed records."""
        links: dict[int, tuple[str, str]] = {}
        if not self.links_folder.isdir(f"{rank:05d}"):
            return links
        for path in self.links_folder.list_files(subdirectory=f"{rank:05d}"):
            with self.links_folder.open(path, "rt") as f:
                for line in f:
                    row = json.loads(line)
                    links[row["doc"]] = (row["id"], row["duplicate_of"])
        return links

    def run(self, data: DocumentsPipeline, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        links = self.load_links(rank)
        writer = self.exclusion_writer
        if writer is not None:
            writer.__enter__()
        try:
            for index, doc in enumerate(data):
                self.stat_update("total")
                link = links.get(index)
                if link is None:
                    self.stat_update("forwarded")
                    yield doc
                    continue
                if link[0] != doc.id:
                    raise ValueError(
                        f"{self.links_folder.path}/{rank:05d}: document {index} of task {rank} is {doc.id!r}, the "
                        f"links expect {link[0]!r} — read the same input with the same number of tasks as the "
                        "signature stage, or delete the dedup work folder and rerun")
                doc.metadata["duplicate_of"] = link[1]
                self.stat_update(f"dropped_{self.reason}")
                if writer is not None:
                    writer.write(doc, rank)
        finally:
            if writer is not None:
                writer.__exit__(None, None, None)
