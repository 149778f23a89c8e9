"""datatrove stages: embed → cluster → annotate (and long-tail scores).

* :class:`EmbedStep` (any number of tasks) passes documents through and writes, per task,
  ``{rank:05d}.npy`` (float32, L2-normalised rows) and ``{rank:05d}.ids.jsonl`` (``{"id", "group"}`` per row).
  The ``.npy`` is written last, so a task whose ``.npy`` exists is complete; the local executor skips
  completed tasks on a rerun, and tasks can run on different machines.
* :class:`ClusterStage` (a separate run, ``depends=`` the embedding run) loads the shards, clusters each
  group (e.g. each source) with :func:`~.capacity.capacity_clusters` — groups are spread over its tasks by
  a stable hash — and writes ``{rank:05d}.jsonl`` (one line per cluster: ``cluster_id``, ``group``, ``size``,
  ``members``) and ``assignments/{shard:05d}/{rank:05d}.jsonl`` (per embedded row).
* :class:`ClusterAnnotator` (same reader and tasks as the embedding run) sets ``metadata["cluster_id"]`` and
  ``metadata["cluster_size"]``.
* :class:`LongTailStage` / :class:`LongTailAnnotator`: ``metadata["long_tail"]`` (see :mod:`.longtail`).
"""

from __future__ import annotations

import json
import zlib
from collections import defaultdict
from collections.abc import Callable, Sequence

import numpy as np
from datatrove.data import Document, DocumentsPipeline
from datatrove.io import DataFolderLike
from datatrove.pipeline.base import PipelineStep

from mixture_builder.clustering._io import datafolder, load_npy, save_npy
from mixture_builder.clustering.capacity import CapacityConfig, capacity_clusters, cluster_members
from mixture_builder.clustering.embeddings import embed_texts, embedding_text
from mixture_builder.clustering.longtail import long_tail_scores


def shard_ranks(embeddings_folder: DataFolderLike) -> list[int]:
    """Task ranks with a complete embedding shard, sorted."""
    folder = datafolder(embeddings_folder)
    return sorted(int(p.split(".")[0]) for p in folder.list_files(glob_pattern="*.npy"))


def read_shard_index(embeddings_folder: DataFolderLike, rank: int) -> list[dict]:
    """The ``{"id", "group"}`` rows of one embedding shard."""
    folder = datafolder(embeddings_folder)
    with folder.open(f"{rank:05d}.ids.jsonl", "rt") as f:
        return [json.loads(line) for line in f]


def gather_vectors(folders: Sequence[DataFolderLike], ids: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """The vectors of ``ids`` stored by ``EmbedStep`` runs in ``folders`` (complete shards only), rows in ``ids``
    order, and a mask of the ids found; rows of ids not found are zero. One shard is in memory at a time."""
    wanted = {doc_id: row for row, doc_id in enumerate(ids)}
    out: np.ndarray | None = None
    found = np.zeros(len(ids), dtype=bool)
    for folder in map(datafolder, folders):
        for rank in shard_ranks(folder) if folder.isdir("") else []:
            pairs = [(wanted[e["id"]], i) for i, e in enumerate(read_shard_index(folder, rank)) if e["id"] in wanted]
            if not pairs:
                continue
            matrix = load_npy(folder, f"{rank:05d}.npy")
            if len(matrix) <= max(i for _, i in pairs):
                raise ValueError(f"{folder.path}: shard {rank} has fewer vectors than ids — rerun its embedding task")
            if out is None:
                out = np.zeros((len(ids), matrix.shape[1]), dtype=np.float32)
            targets, rows = (np.fromiter(column, np.int64, len(pairs)) for column in zip(*pairs))
            out[targets] = matrix[rows]
            found[targets] = True
            del matrix
    return (out if out is not None else np.zeros((len(ids), 0), dtype=np.float32)), found


def stored_or_embedded(folders: Sequence[DataFolderLike], ids: Sequence[str], text_of: Callable[[int], str],
                       model_name: str | None = None) -> tuple[np.ndarray, int]:
    """Vectors of ``ids``: those stored in ``folders`` (:func:`gather_vectors`), the others embedded now from
    ``text_of(position)``; returns the matrix and how many were embedded now."""
    vectors, found = gather_vectors(folders, ids)
    missing = np.flatnonzero(~found)
    if not missing.size:
        return vectors, 0
    fresh = embed_texts([text_of(int(i)) for i in missing], model_name)
    if not found.any():
        return fresh, len(missing)
    vectors[missing] = fresh
    return vectors, len(missing)


class EmbedStep(PipelineStep):
    """Embed each document (see :func:`~.embeddings.embedding_text`) and write the task's shard; ``threads``
    sets torch's CPU threads in the task's process (None: torch's default, every core)."""

    name = "🧭 embed"
    type = "🔢 - EMBED"

    def __init__(
        self,
        output_folder: DataFolderLike,
        model_name: str | None = None,
        text_fields: Sequence[str] | None = None,
        batch_size: int = 64,
        chunk_size: int = 4096,
        group_by: str | None = "source",
        device: str = "cpu",
        threads: int | None = None,
    ):
        super().__init__()
        self.output_folder = datafolder(output_folder)
        self.threads = threads
        self.model_name = model_name
        self.text_fields = list(text_fields) if text_fields else None
        self.batch_size = batch_size
        self.chunk_size = chunk_size
        self.group_by = group_by
        self.device = device

    def _embed(self, docs: list[Document]) -> np.ndarray:
        texts = [embedding_text(doc, self.text_fields) for doc in docs]
        empty = sum(1 for t in texts if not t.strip())
        if empty:
            self.stat_update("empty_text", value=empty)
        return embed_texts(texts, self.model_name, self.batch_size, device=self.device)

    def run(self, data: DocumentsPipeline, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        if self.threads:  # the task's share of the CPU cores: tasks run at once must not oversubscribe them
            import torch

            torch.set_num_threads(self.threads)
        parts: list[np.ndarray] = []
        with self.output_folder.open(f"{rank:05d}.ids.jsonl", "wt") as index:
            buffer: list[Document] = []
            for doc in data:
                buffer.append(doc)
                if len(buffer) < self.chunk_size:
                    continue
                yield from self._flush(buffer, parts, index)
                buffer = []
            yield from self._flush(buffer, parts, index)
        matrix = np.concatenate(parts) if parts else np.zeros((0, 0), dtype=np.float32)
        save_npy(self.output_folder, f"{rank:05d}.npy", matrix)

    def _flush(self, docs: list[Document], parts: list[np.ndarray], index) -> DocumentsPipeline:
        if not docs:
            return
        with self.track_time(unit="batch"):
            parts.append(self._embed(docs))
        for doc in docs:
            group = "" if self.group_by is None else str(doc.metadata.get(self.group_by, ""))
            index.write(json.dumps({"id": doc.id, "group": group}) + "\n")
            self.stat_update("embedded")
            yield doc


def _stable_hash(text: str) -> int:
    return zlib.crc32(text.encode("utf-8"))


class ClusterStage(PipelineStep):
    """Capacity-constrained clusters per group over all embedding shards (a whole-dataset stage)."""

    name = "🧩 capacity clusters"
    type = "🔢 - EMBED"

    def __init__(self, embeddings_folder: DataFolderLike, output_folder: DataFolderLike,
                 config: CapacityConfig | None = None):
        super().__init__()
        self.embeddings_folder = datafolder(embeddings_folder)
        self.output_folder = datafolder(output_folder)
        self.config = config or CapacityConfig()

    def run(self, data: DocumentsPipeline = None, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        if data is not None:
            yield from data
        # rows of this task's groups: group -> list of (shard, row, id)
        rows: dict[str, list[tuple[int, int, str]]] = defaultdict(list)
        shards = shard_ranks(self.embeddings_folder)
        for shard in shards:
            for i, entry in enumerate(read_shard_index(self.embeddings_folder, shard)):
                if _stable_hash(entry["group"]) % world_size == rank:
                    rows[entry["group"]].append((shard, i, entry["id"]))
        # members of a group were collected shard by shard: each shard's rows are one contiguous run
        bounds = np.asarray(shards + [shards[-1] + 1] if shards else [])
        runs = {group: np.searchsorted(np.fromiter((m[0] for m in members), np.int64, len(members)), bounds)
                for group, members in rows.items()}
        vectors: dict[str, list[np.ndarray]] = defaultdict(list)
        for i, shard in enumerate(shards):
            matrix = load_npy(self.embeddings_folder, f"{shard:05d}.npy")
            for group, members in rows.items():
                lo, hi = runs[group][i], runs[group][i + 1]
                if hi > lo:
                    vectors[group].append(matrix[[row for _, row, _ in members[lo:hi]]])
            del matrix
        assignments: dict[int, list[str]] = defaultdict(list)
        with self.output_folder.open(f"{rank:05d}.jsonl", "wt") as clusters_file:
            for group in sorted(rows):
                members = rows[group]
                with self.track_time(unit="group"):
                    labels = capacity_clusters(np.concatenate(vectors.pop(group)), self.config)
                for k, idx in enumerate(cluster_members(labels)):
                    cluster_id = f"{group}/{k:06d}" if group else f"{k:06d}"
                    ids = [members[i][2] for i in idx.tolist()]
                    clusters_file.write(json.dumps({"cluster_id": cluster_id, "group": group, "size": len(ids),
                                                    "members": ids}) + "\n")
                    self.stat_update("clusters")
                    self.stat_update("cluster_size", value=len(ids), unit="cluster")
                    for i in idx.tolist():
                        shard, row, doc_id = members[i]
                        assignments[shard].append(json.dumps(
                            {"row": row, "id": doc_id, "cluster_id": cluster_id, "cluster_size": len(ids)}))
        for shard in shards:  # one file per shard, even empty, so annotators can check completeness
            with self.output_folder.open(f"assignments/{shard:05d}/{rank:05d}.jsonl", "wt") as f:
                f.writelines(line + "\n" for line in assignments.get(shard, []))


class _RowAnnotator(PipelineStep):
    """Base of the annotators: per-row values of this task's shard, checked against the document ids."""

    type = "🔢 - EMBED"

    def __init__(self, folder: DataFolderLike):
        super().__init__()
        self.folder = datafolder(folder)

    def load(self, rank: int) -> dict[int, dict]:
        raise NotImplementedError

    def annotate(self, doc: Document, values: dict) -> None:
        raise NotImplementedError

    def run(self, data: DocumentsPipeline, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        values = self.load(rank)
        for row, doc in enumerate(data):
            entry = values.get(row)
            if entry is None or entry["id"] != doc.id:
                found = "nothing" if entry is None else repr(entry["id"])
                raise ValueError(
                    f"{self.folder.path}: task {rank}, document {row} is {doc.id!r} but the stage output has "
                    f"{found} — annotate with the same reader, filters and number of tasks as the embed run")
            self.annotate(doc, entry)
            self.stat_update("annotated")
            yield doc


class ClusterAnnotator(_RowAnnotator):
    """Sets ``metadata["cluster_id"]`` and ``metadata["cluster_size"]`` from :class:`ClusterStage` output."""

    name = "🏷️ cluster annotator"

    def load(self, rank: int) -> dict[int, dict]:
        values: dict[int, dict] = {}
        subdirectory = f"assignments/{rank:05d}"
        if self.folder.isdir(subdirectory):
            for path in self.folder.list_files(subdirectory=subdirectory):
                with self.folder.open(path, "rt") as f:
                    for line in f:
                        entry = json.loads(line)
                        values[entry["row"]] = entry
        return values

    def annotate(self, doc: Document, values: dict) -> None:
        doc.metadata["cluster_id"] = values["cluster_id"]
        doc.metadata["cluster_size"] = values["cluster_size"]


class LongTailStage(PipelineStep):
    """Long-tail scores over all embedding shards (one task); writes ``{shard:05d}.jsonl`` per shard."""

    name = "🦚 long-tail scores"
    type = "🔢 - EMBED"

    def __init__(self, embeddings_folder: DataFolderLike, output_folder: DataFolderLike, k: int = 15):
        super().__init__()
        self.embeddings_folder = datafolder(embeddings_folder)
        self.output_folder = datafolder(output_folder)
        self.k = k

    def run(self, data: DocumentsPipeline = None, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        if data is not None:
            yield from data
        if world_size != 1:
            raise ValueError("LongTailStage compares every record with every other: run it with tasks=1")
        shards = shard_ranks(self.embeddings_folder)
        matrices = [load_npy(self.embeddings_folder, f"{s:05d}.npy") for s in shards]
        matrices = [m for m in matrices if m.size]
        with self.track_time():
            scores = long_tail_scores(np.concatenate(matrices), self.k) if matrices else np.zeros(0)
        start = 0
        for shard in shards:
            index = read_shard_index(self.embeddings_folder, shard)
            with self.output_folder.open(f"{shard:05d}.jsonl", "wt") as f:
                for entry, score in zip(index, scores[start:start + len(index)].tolist()):
                    f.write(json.dumps({"id": entry["id"], "long_tail": score}) + "\n")
            start += len(index)


class LongTailAnnotator(_RowAnnotator):
    """Sets ``metadata["long_tail"]`` from :class:`LongTailStage` output."""

    name = "🏷️ long-tail annotator"

    def load(self, rank: int) -> dict[int, dict]:
        if not self.folder.exists(f"{rank:05d}.jsonl"):
            return {}
        with self.folder.open(f"{rank:05d}.jsonl", "rt") as f:
            return {row: json.loads(line) for row, line in enumerate(f)}

    def annotate(self, doc: Document, values: dict) -> None:
        doc.metadata["long_tail"] = values["long_tail"]
