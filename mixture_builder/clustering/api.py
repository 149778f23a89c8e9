"""Python entry points: in-memory clustering of documents, and whole dedup / cluster runs on files.

The in-memory functions suit notebooks and small pools; :func:`run_dedup` and :func:`run_clusters` run the
datatrove stages (resumable, parallel) and write JSONL.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from datatrove.data import Document

from mixture_builder.clustering.capacity import CapacityConfig, capacity_clusters, cluster_members
from mixture_builder.clustering.embeddings import embed_texts, embedding_text
from mixture_builder.clustering.longtail import long_tail_scores
from mixture_builder.clustering.pipelines import cluster_plan, dedup_plan, local_executor_factory
from mixture_builder.input_fingerprint import input_fingerprint
from mixture_builder.readers import RawReader
from mixture_builder.work_dir import check_inputs_exist, local_path, prepare_work_dir


def _embed_docs(docs: Sequence[Document], model_name: str | None, text_fields: Sequence[str] | None,
                batch_size: int) -> np.ndarray:
    return embed_texts([embedding_text(d, text_fields) for d in docs], model_name, batch_size)


def cluster_documents(
    docs: Sequence[Document],
    config: CapacityConfig | None = None,
    *,
    group_by: str | None = "source",
    embeddings: np.ndarray | None = None,
    model_name: str | None = None,
    text_fields: Sequence[str] | None = None,
    batch_size: int = 64,
) -> dict[str, list[Document]]:
    """Capacity-constrained clusters of ``docs`` per ``group_by`` metadata value (None: all together).

    Sets ``metadata["cluster_id"]`` / ``["cluster_size"]`` on each document and returns
    ``{cluster_id: members}``. ``embeddings`` (one row per document) skips the embedding."""

    if embeddings is None:
        embeddings = _embed_docs(docs, model_name, text_fields, batch_size)
    if len(embeddings) != len(docs):
        raise ValueError(f"got {len(embeddings)} embeddings for {len(docs)} documents — pass one row per document")
    groups: dict[str, list[int]] = defaultdict(list)
    for i, doc in enumerate(docs):
        groups["" if group_by is None else str(doc.metadata.get(group_by, ""))].append(i)
    clusters: dict[str, list[Document]] = {}
    for group in sorted(groups):
        rows = np.asarray(groups[group])
        labels = capacity_clusters(embeddings[rows], config)
        for k, idx in enumerate(cluster_members(labels)):
            cluster_id = f"{group}/{k:06d}" if group else f"{k:06d}"
            members = [docs[i] for i in rows[idx].tolist()]
            for doc in members:
                doc.metadata["cluster_id"] = cluster_id
                doc.metadata["cluster_size"] = len(members)
            clusters[cluster_id] = members
    return clusters


def annotate_long_tail(
    docs: Sequence[Document],
    k: int = 15,
    *,
    embeddings: np.ndarray | None = None,
    model_name: str | None = None,
    text_fields: Sequence[str] | None = None,
    batch_size: int = 64,
) -> np.ndarray:
    """Set ``metadata["long_tail"]`` (see :mod:`.longtail`) on each document; returns the scores."""

    if embeddings is None:
        embeddings = _embed_docs(docs, model_name, text_fields, batch_size)
    scores = long_tail_scores(embeddings, k)
    for doc, score in zip(docs, scores.tolist()):
        doc.metadata["long_tail"] = score
    return scores


DOCUMENTS_FORMAT = "documents"
"""``input_format`` of folders written by these stages (datatrove JSONL: ``text``, ``id``, ``metadata``)."""


def _prepare(input_path: str, output_dir: str | Path, job: str, options: dict[str, Any], *,
             input_hash: str = "auto", fresh: bool = False) -> Path:
    """Check the input exists, then guard ``{output_dir}/.lm-mixup/{job}`` against a rerun with other settings
    or an edited input (refused unless ``fresh``, as for ``lm-mixup build``: datatrove would skip the finished
    tasks and keep stale results)."""

    check_inputs_exist([(None, str(input_path))])
    work = Path(output_dir) / ".lm-mixup" / job
    inputs = input_fingerprint([str(input_path)], content_hash=input_hash, exclude=[output_dir])
    prepare_work_dir(work, {"input": local_path(str(input_path)), **options}, inputs=inputs, on_change="refuse",
                     output=output_dir, fresh=fresh)
    return work


def _settings(value: Any) -> Any:
    """A config object as JSON-able data for a fingerprint."""
    import dataclasses

    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    return value if value is None or isinstance(value, (str, int, float, bool, list, dict)) else repr(value)


def _reader_factory(input_path: str, input_format: str, on_error: str):
    if input_format == DOCUMENTS_FORMAT:
        from datatrove.pipeline.readers import JsonlReader

        return lambda: JsonlReader(str(input_path))

    return lambda: RawReader(input_path, format=input_format, on_error=on_error)


def run_dedup(
    input_path: str,
    output_dir: str | Path,
    *,
    input_format: str = "auto",
    on_error: str = "raise",
    tasks: int = 1,
    workers: int = -1,
    exact: bool = True,
    near: bool = True,
    minhash_config: Any = None,
    input_hash: str = "auto",
    fresh: bool = False,
) -> Path:
    """Exact + near dedup of the records under ``input_path``: kept records to ``{output_dir}/kept``, removed
    ones (with ``duplicate_of``) to ``{output_dir}/removed_{exact,near}``; work files and logs under
    ``{output_dir}/.lm-mixup/dedup``. Rerunning with the same settings and input files resumes; with other ones
    (input path or content, format, options, ``tasks``) it raises ``ConfigError`` unless ``fresh`` starts over.
    ``input_hash``: see :data:`mixture_builder.input_fingerprint.CONTENT_HASH_HELP`. Returns the folder of kept
    records."""
    from datatrove.pipeline.writers import JsonlWriter

    out = Path(output_dir)
    work = _prepare(input_path, out, "dedup", {
        "format": input_format, "on_error": on_error, "tasks": tasks, "exact": exact, "near": near,
        "minhash_config": _settings(minhash_config)}, input_hash=input_hash, fresh=fresh)
    reader = _reader_factory(input_path, input_format, on_error)
    make = local_executor_factory(work, workers)
    plan = dedup_plan(reader, work, tasks=tasks, exact=exact, near=near, minhash_config=minhash_config,
                      exclusion_writer=lambda kind: JsonlWriter(str(out / f"removed_{kind}")),
                      executor_factory=make)
    make([reader(), *plan.steps, JsonlWriter(str(out / "kept"))], tasks=tasks, name="final",
         depends=plan.last).run()
    return out / "kept"


def run_clusters(
    input_path: str,
    output_dir: str | Path,
    *,
    input_format: str = "auto",
    on_error: str = "raise",
    config: CapacityConfig | None = None,
    group_by: str | None = "source",
    model_name: str | None = None,
    text_fields: Sequence[str] | None = None,
    batch_size: int = 64,
    long_tail_k: int | None = 15,
    tasks: int = 1,
    cluster_tasks: int = 1,
    workers: int = -1,
    input_hash: str = "auto",
    fresh: bool = False,
) -> Path:
    """Embed → cluster [→ long-tail] the records under ``input_path``; annotated records to
    ``{output_dir}/records``, the clusters file(s) under ``{output_dir}/.lm-mixup/clusters/clusters``.
    Rerunning with the same settings and input files resumes; with other ones (input path or content, format,
    options, ``tasks``, ``cluster_tasks``) it raises ``ConfigError`` unless ``fresh`` starts over.
    ``input_hash`` as for :func:`run_dedup`. Returns the folder of annotated records."""
    from datatrove.pipeline.writers import JsonlWriter

    out = Path(output_dir)
    work = _prepare(input_path, out, "clusters", {
        "format": input_format, "on_error": on_error, "config": _settings(config or CapacityConfig()),
        "group_by": group_by, "model_name": model_name, "text_fields": list(text_fields) if text_fields else None,
        "long_tail_k": long_tail_k, "tasks": tasks, "cluster_tasks": cluster_tasks},
        input_hash=input_hash, fresh=fresh)
    reader = _reader_factory(input_path, input_format, on_error)
    make = local_executor_factory(work, workers)
    plan = cluster_plan(reader, work, tasks=tasks, cluster_tasks=cluster_tasks, model_name=model_name,
                        text_fields=text_fields, batch_size=batch_size, config=config, group_by=group_by,
                        long_tail_k=long_tail_k, executor_factory=make)
    make([reader(), *plan.steps, JsonlWriter(str(out / "records"))], tasks=tasks, name="final",
         depends=plan.last).run()
    return out / "records"
