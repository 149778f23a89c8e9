"""Wiring of the dedup and embed → cluster → annotate stages into chained datatrove executors.

Each ``*_plan`` function returns the preparatory executors (chained with ``depends=``) and the steps to put
after the reader in the final pass, so the same plan runs locally or, with another ``executor_factory``
(e.g. ``functools.partial(SlurmPipelineExecutor, ...)``), on a cluster. Every pass that re-reads the input
must use the same reader and the same number of tasks: stages address records by (task, index).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from datatrove.pipeline.base import PipelineStep

from mixture_builder.clustering.capacity import CapacityConfig
from mixture_builder.clustering.dedup import (
    DuplicateFilter,
    ExactDuplicateLinks,
    IdIndexWriter,
    MinhashDuplicateLinks,
    normalised_content,
)
from mixture_builder.clustering.steps import (
    ClusterAnnotator,
    ClusterStage,
    EmbedStep,
    LongTailAnnotator,
    LongTailStage,
)

ReaderFactory = Callable[[], PipelineStep]
ExecutorFactory = Callable[..., Any]


def local_executor_factory(work_dir: str | Path, workers: int = -1) -> ExecutorFactory:
    """``LocalPipelineExecutor`` per stage, logging under ``{work_dir}/logs/{name}`` (reruns skip done tasks)."""
    from datatrove.executor import LocalPipelineExecutor

    def make(pipeline: list, *, tasks: int, name: str, depends: Any = None) -> Any:
        return LocalPipelineExecutor(pipeline, tasks=tasks, workers=workers if workers > 0 else min(tasks, 2),
                                     logging_dir=str(Path(work_dir) / "logs" / name), depends=depends)

    return make


@dataclass
class Plan:
    """Preparatory executors (run ``executors[-1]``: it runs its dependencies first) and the steps that go
    right after the reader in the final pass."""

    executors: list[Any] = field(default_factory=list)
    steps: list[PipelineStep] = field(default_factory=list)

    @property
    def last(self) -> Any:
        return self.executors[-1] if self.executors else None

    def run(self) -> None:
        if self.executors:
            self.executors[-1].run()


def dedup_plan(
    reader: ReaderFactory,
    work_dir: str | Path,
    *,
    tasks: int = 1,
    exact: bool = True,
    near: bool = True,
    finder_workers: int = 1,
    minhash_config: Any = None,
    exclusion_writer: Callable[[str], PipelineStep] | None = None,
    executor_factory: ExecutorFactory | None = None,
    depends: Any = None,
    keep: str = "first",
) -> Plan:
    """Exact then MinHash near-duplicate removal (see :mod:`.dedup`); ``keep`` picks the record a group keeps
    (:data:`.dedup.KEEP`).

    ``exclusion_writer(kind)`` ("exact" | "near"), when given, makes the writer of the removed records (they
    carry ``duplicate_of``)."""
    work = Path(work_dir)
    make = executor_factory or local_executor_factory(work)
    plan = Plan()

    def excl(kind: str) -> PipelineStep | None:
        return exclusion_writer(kind) if exclusion_writer else None

    if exact:
        plan.executors += _exact_stages(reader, work, make, tasks, finder_workers, depends, keep)
        depends = plan.executors[-1]
        plan.steps.append(DuplicateFilter(str(work / "exact/links"), "exact_duplicate", excl("exact")))
    if near:
        # the signatures must see the records the final pass sees after the exact filter; that pass alone
        # writes (and reports) the exact duplicates, so this copy of the filter has no exclusion writer
        skip_exact = [DuplicateFilter(str(work / "exact/links"), "exact_duplicate")] if exact else []
        plan.executors += _near_stages(reader, skip_exact, work, make, tasks, minhash_config, depends, keep)
        plan.steps.append(DuplicateFilter(str(work / "near/links"), "near_duplicate", excl("near")))
    return plan


def _exact_stages(reader: ReaderFactory, work: Path, make: ExecutorFactory, tasks: int, finder_workers: int,
                  depends: Any, keep: str) -> list[Any]:
    """Exact signatures (one per record, with an id index) → duplicate links."""
    from datatrove.pipeline.dedup.exact_dedup import ExactDedupConfig, ExactDedupSignature

    cfg = ExactDedupConfig(content_getter=normalised_content)
    sigs = make([reader(), IdIndexWriter(work / "exact/ids"),
                 ExactDedupSignature(str(work / "exact/sigs"), cfg, finder_workers=finder_workers)],
                tasks=tasks, name="exact_1_signatures", depends=depends)
    links = make([ExactDuplicateLinks(str(work / "exact/sigs"), str(work / "exact/links"), str(work / "exact/ids"),
                                      keep=keep)],
                 tasks=finder_workers, name="exact_2_links", depends=sigs)
    return [sigs, links]


def _near_stages(reader: ReaderFactory, before: list[PipelineStep], work: Path, make: ExecutorFactory, tasks: int,
                 minhash_config: Any, depends: Any, keep: str) -> list[Any]:
    """MinHash signatures (after ``before``) → buckets → clusters and duplicate links (datatrove's stages)."""
    from datatrove.pipeline.dedup import MinhashDedupBuckets, MinhashDedupCluster, MinhashDedupSignature
    from datatrove.pipeline.dedup.minhash import MinhashConfig

    mh = minhash_config or MinhashConfig()
    sigs = make([reader(), *before, IdIndexWriter(work / "near/ids"),
                 MinhashDedupSignature(str(work / "near/sigs"), config=mh)],
                tasks=tasks, name="near_1_signatures", depends=depends)
    buckets = make([MinhashDedupBuckets(str(work / "near/sigs"), str(work / "near/buckets"), config=mh)],
                   tasks=mh.num_buckets, name="near_2_buckets", depends=sigs)
    clusters = make([MinhashDedupCluster(str(work / "near/buckets"), str(work / "near/clusters"), config=mh,
                                         save_cluster_id=True),
                     MinhashDuplicateLinks(str(work / "near/clusters"), str(work / "near/links"),
                                           str(work / "near/ids"), keep=keep)],
                    tasks=1, name="near_3_clusters", depends=buckets)
    return [sigs, buckets, clusters]


def cluster_plan(
    reader: ReaderFactory,
    work_dir: str | Path,
    *,
    tasks: int = 1,
    cluster_tasks: int = 1,
    before: Sequence[Callable[[], PipelineStep]] = (),
    model_name: str | None = None,
    text_fields: Sequence[str] | None = None,
    batch_size: int = 64,
    config: CapacityConfig | None = None,
    group_by: str | None = "source",
    long_tail_k: int | None = None,
    executor_factory: ExecutorFactory | None = None,
    depends: Any = None,
) -> Plan:
    """Embed (``tasks`` tasks) → capacity-constrained clusters per ``group_by`` value (``cluster_tasks``
    tasks, groups hashed to tasks) [→ long-tail scores]. ``plan.steps`` (the ``before`` steps, then the
    annotators of ``cluster_id``, ``cluster_size`` [and ``long_tail``]) go after the reader in the final pass.
    ``before`` are step factories applied after the reader in every pass (e.g. dedup filters)."""

    work = Path(work_dir)
    make = executor_factory or local_executor_factory(work)
    emb = str(work / "embeddings")
    embed = make([reader(), *(f() for f in before),
                  EmbedStep(emb, model_name=model_name, text_fields=text_fields, batch_size=batch_size,
                            group_by=group_by)],
                 tasks=tasks, name="embed", depends=depends)
    cluster = make([ClusterStage(emb, str(work / "clusters"), config=config)],
                   tasks=cluster_tasks, name="cluster", depends=embed)
    plan = Plan([embed, cluster], [*(f() for f in before), ClusterAnnotator(str(work / "clusters"))])
    if long_tail_k:
        tail = make([LongTailStage(emb, str(work / "long_tail"), k=long_tail_k)], tasks=1, name="long_tail",
                    depends=cluster)
        plan.executors.append(tail)
        plan.steps.append(LongTailAnnotator(str(work / "long_tail")))
    return plan
