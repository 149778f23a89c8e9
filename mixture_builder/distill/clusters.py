"""Whole-dataset stage: split scored records into high / low quality and cluster the low ones per source.

Runs as its own single-task pipeline (it needs every record at once); the vectors come from the sharded
``embed`` stage before it (an ``EmbedStep`` over every scored record), or are computed here without one (or for
records that stage did not embed). High-quality records go to ``high_writer`` unchanged; each cluster of
low-quality records becomes one ``kind="cluster"`` document whose text is the linearised cluster the distiller
reads::

    Document(text="Q: …\\n A: …\\n\\nQ: …\\n A: …", id="cluster/<source>/<n>",
             metadata={"kind": "cluster", "source_ids": [record ids], "sources": [...], "licenses": [...],
                       "items": ["Q: … A: …", ...], "members": [{id, instruction, input, output, quality,
                       source, license}, ...], "cluster_source": <source or "all">})
"""

from __future__ import annotations

import contextlib
from collections import defaultdict

import numpy as np
from datatrove.data import Document, DocumentsPipeline
from datatrove.pipeline.base import PipelineStep
from datatrove.pipeline.writers.disk_base import DiskWriter

from mixture_builder.clustering.capacity import CapacityConfig, capacity_clusters
from mixture_builder.clustering.embeddings import embedding_text
from mixture_builder.clustering.steps import stored_or_embedded
from mixture_builder.distill.parse import cluster_items, sample_prompt
from mixture_builder.records import instruction_fields

CLUSTER = "cluster"


def member_record(doc: Document) -> dict:
    """The fields of a clustered record kept on its cluster (for the report and provenance)."""
    instruction, input_, output = instruction_fields(doc)
    meta = doc.metadata
    return {"id": doc.id, "instruction": instruction, "input": input_, "output": output,
            "quality": meta.get("quality"), "source": meta.get("source", ""), "license": meta.get("license", "")}


def make_cluster(members: list[Document], cluster_id: str, cluster_source: str) -> Document:
    """One cluster document (see the module docstring)."""
    pairs = [(sample_prompt(*instruction_fields(d)[:2]), instruction_fields(d)[2]) for d in members]
    items = cluster_items(pairs)
    records = [member_record(d) for d in members]
    return Document(
        text="\n\n".join(items),
        id=cluster_id,
        metadata={
            "kind": CLUSTER,
            "source_ids": [d.id for d in members],
            "sources": sorted({r["source"] for r in records if r["source"]}),
            "licenses": sorted({r["license"] for r in records if r["license"]}),
            "items": items,
            "members": records,
            "cluster_source": cluster_source,
        },
    )


class SplitAndCluster(PipelineStep):
    """High (``quality >= threshold``) → ``high_writer``; low → capacity-constrained clusters (per source)."""

    name = "🧺 Split high/low and cluster the low-quality records"
    step_id = "split_and_cluster"
    reads = frozenset({"quality", "source"})
    writes = frozenset({"kind", "source_ids", "sources", "licenses", "items", "members", "cluster_source"})
    type = "🧺 - CLUSTER"

    def __init__(
        self,
        high_writer: DiskWriter,
        threshold: int = 4,
        capacity: CapacityConfig | None = None,
        per_source: bool = True,
        embedding_model: str | None = None,
        embeddings_folder: str | None = None,
    ) -> None:
        super().__init__()
        self.embeddings_folder = embeddings_folder
        self.high_writer = high_writer
        self.threshold = threshold
        self.capacity = capacity or CapacityConfig()
        self.per_source = per_source
        self.embedding_model = embedding_model

    def run(self, data: DocumentsPipeline, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        if world_size != 1:
            raise ValueError("SplitAndCluster needs all records in one task (run it with tasks=1)")
        groups: dict[str, list[Document]] = defaultdict(list)
        with self.high_writer if self.high_writer else contextlib.nullcontext() as writer:
            for doc in data or []:
                self.stat_update("total")
                if doc.metadata["quality"] >= self.threshold:
                    self.stat_update("high")
                    writer.write(doc, rank)
                else:
                    self.stat_update("low")
                    key = str(doc.metadata.get("source") or "unknown") if self.per_source else "all"
                    groups[key].append(doc)
        ordered: dict[str, list[Document]] = {}
        for key in sorted(groups):
            docs = sorted(groups.pop(key), key=lambda d: d.id)  # deterministic whatever the upstream task order
            if len(docs) < self.capacity.min_size:
                self.stat_update("dropped_too_few_to_cluster", value=len(docs))
            else:
                ordered[key] = docs
        vectors = self._vectors([d for docs in ordered.values() for d in docs])
        start = 0
        for key, docs in ordered.items():
            yield from self._cluster(key, docs, vectors[start:start + len(docs)])
            start += len(docs)

    def _vectors(self, docs: list[Document]) -> np.ndarray:
        """Vectors of ``docs``: the ``embed`` stage's, and computed here for those it has not embedded."""
        folders = [self.embeddings_folder] if self.embeddings_folder else []
        vectors, embedded = stored_or_embedded(folders, [d.id for d in docs], lambda i: embedding_text(docs[i]),
                                               self.embedding_model)
        if embedded:
            self.stat_update("embedded_here", value=embedded)
        return vectors

    def _cluster(self, key: str, docs: list[Document], vectors: np.ndarray) -> DocumentsPipeline:
        with self.track_time():
            labels = self._labels(vectors)
        safe_key = "".join(c if c.isalnum() or c in "-_." else "_" for c in key)
        for number, label in enumerate(sorted(set(labels.tolist()))):
            members = [docs[i] for i in np.flatnonzero(labels == label)]
            if len(members) < self.capacity.min_size:
                self.stat_update("dropped_too_few_to_cluster", value=len(members))
                continue
            self.stat_update("clusters")
            self.stat_update("clustered", value=len(members))
            yield make_cluster(members, f"cluster/{safe_key}/{number:05d}", key)

    def _labels(self, vectors):
        return capacity_clusters(vectors, self.capacity)
