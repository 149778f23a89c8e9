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


KEEP = ("first", "smallest_id")
"""Which record of a duplicate group is kept: ``first`` (the first task, then the first in its task: the
input order) or ``smallest_id`` (independent of how the input was split into tasks)."""


def write_group_links(folder: DataFolderLike, worker: int, groups: list[tuple[list[tuple[int, int]], int]],
                      id_folder: DataFolderLike, keep: str = "first") -> int:
    """Link files for groups of duplicates given as ``([(task rank, doc index), ...], n_candidates)``, the
    rows in order of preference: each group keeps its first row (``keep="first"``) or the smallest id among
    its first ``n_candidates`` rows (``"smallest_id"``) and links the others to it."""
    wanted: dict[int, list[int]] = defaultdict(list)
    for nodes, _ in groups:
        for rank, doc in nodes:
            wanted[rank].append(doc)
    ids = resolve_ids(id_folder, wanted)
    removed, kept = [], []
    for nodes, candidates in groups:
        keeper = nodes[0] if keep == "first" else min(nodes[:candidates], key=lambda node: (ids[node], node))
        removed += [node for node in nodes if node != keeper]
        kept += [keeper] * (len(nodes) - 1)
    shape = (-1, 2)
    return write_links(folder, worker, np.array(removed, dtype=np.int64).reshape(shape),
                       np.array(kept, dtype=np.int64).reshape(shape), id_folder)


class ExactDuplicateLinks(PipelineStep):
    """Exact dedup, second stage: group equal hashes of datatrove's ``ExactDedupSignature`` files and link
    every duplicate to the kept record (highest priority, then the first in input order or the smallest id:
    see :data:`KEEP`).

    Run with as many tasks as the signature step's ``finder_workers`` (each task owns one hash range)."""

    name = "🔗 exact duplicate links"
    type = "🫂 - DEDUP"

    def __init__(self, signatures_folder: DataFolderLike, links_folder: DataFolderLike, id_folder: DataFolderLike,
                 keep: str = "first"):
        super().__init__()
        self.keep = keep
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
            h, p, r, d = h[order], p[order], r[order], d[order]
            starts = np.flatnonzero(np.r_[True, h[1:] != h[:-1]])
            groups = []
            for lo, hi in zip(starts.tolist(), np.r_[starts[1:], len(h)].tolist()):
                if hi - lo > 1:  # sorted by priority first: the keeper is among the top-priority rows
                    top = int(np.sum(p[lo:hi] == p[lo]))
                    groups.append(([(int(r[i]), int(d[i])) for i in range(lo, hi)], top))
            count = write_group_links(self.links_folder, rank, groups, self.id_folder, self.keep)
            self.stat_update("duplicates", value=count)
        return
        yield  # a generator step that yields nothing


class MinhashDuplicateLinks(PipelineStep):
    """Near dedup, after ``MinhashDedupCluster(save_cluster_id=True)`` (one task): links every record in its
    ``.remove`` files to the record its cluster keeps."""

    name = "🔗 near-duplicate links"
    type = "🫂 - DEDUP"

    def __init__(self, cluster_folder: DataFolderLike, links_folder: DataFolderLike, id_folder: DataFolderLike,
                 keep: str = "first"):
        super().__init__()
        self.keep = keep
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
            for path in self.cluster_folder.list_files(glob_pattern="*.clusters"):
                file_rank = int(path.rsplit("/", 1)[-1].split(".")[0])
                for doc, cluster in _read_pairs(self.cluster_folder, path):
                    members[cluster].append((file_rank, doc))
            removed_set: set[tuple[int, int]] = set()
            for path in self.cluster_folder.list_files(glob_pattern="*.remove"):
                file_rank = int(path.rsplit("/", 1)[-1].split(".")[0])
                with self.cluster_folder.open(path, "rb") as f:
                    removed_set.update((file_rank, doc) for doc in np.frombuffer(f.read(), dtype="<u4").tolist())
            # preference: the record datatrove keeps, then input order
            groups = [(sorted(nodes, key=lambda node: (node in removed_set, node)), len(nodes))
                      for nodes in members.values() if len(nodes) > 1]
            count = write_group_links(self.links_folder, 0, groups, self.id_folder, self.keep)
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
