"""The cost of a distillation before it runs (``lm-mixup distill --dry-run``; also stored in ``stats.json``).

The pools are read and normalised in this process, existing scores attached, and every teacher stage is
estimated with the teacher layer's estimator (:mod:`mixture_builder.teacher.estimate`) on the requests it
would send: ``score`` rates the records without a score; ``distill`` writes one sample per cluster (stand-in
clusters of ``capacity.mean`` low-quality records, by id, per source); ``rerate`` rates one distilled sample
per cluster (stand-ins of ``max_new_tokens``). Upper bounds: duplicates are not removed and every record sent
to the rater counts as low quality. Cached requests are free. Over ``sample_limit`` records, every k-th record
is estimated (k a power of two) and the figures are scaled by k.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from datatrove.data import Document

from mixture_builder.distill.clusters import make_cluster
from mixture_builder.distill.config import DistillConfig
from mixture_builder.distill.distiller import TeacherDistiller
from mixture_builder.distill.steps import AttachExistingScore, NormaliseInstruction, RateUnscored
from mixture_builder.readers.steps import RawReader
from mixture_builder.records import INSTRUCTION
from mixture_builder.teacher.config import TeacherConfig
from mixture_builder.teacher.estimate import Estimate, duration_s, estimate

SAMPLE_LIMIT = 20_000


@dataclass
class DistillPlan:
    """Records read, records to rate, stand-in clusters, and per teacher stage the estimate and its time."""

    records: int
    unscored: int
    clusters: int
    stride: int
    stages: dict[str, dict[str, Any]] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"records": self.records, "unscored": self.unscored, "clusters": self.clusters,
                "sampled_every": self.stride, "stages": self.stages}


def sample_pools(config: DistillConfig, sample_limit: int = SAMPLE_LIMIT) -> tuple[int, int, list[Document]]:
    """The usable records of the pools (read → normalise → existing scores) streamed in this process:
    ``(records, k, every k-th record)``, k the smallest power of two that keeps at most ``sample_limit``
    (memory holds the sample, not the pools)."""
    kept: list[Document] = []
    stride, records = 1, 0
    for doc in _usable_records(config):
        if records % stride == 0:
            kept.append(doc)
            if len(kept) > sample_limit:  # keep every other one: every (2k)-th record
                kept, stride = kept[::2], stride * 2
        records += 1
    return records, stride, kept


def _usable_records(config: DistillConfig) -> Iterator[Document]:
    stream = None
    for pool in config.pools:
        reader = RawReader(pool.path, format=pool.format, on_error=config.on_error, limit=pool.limit or -1,
                           source=pool.source, license=pool.license, glob_pattern=pool.glob_pattern)
        stream = reader(stream)
    stream = NormaliseInstruction()(stream)
    yield from AttachExistingScore(config.scoring.score_column, config.scoring.scores_file)(stream)


def _scaled(est: Estimate, k: int, cfg: TeacherConfig) -> dict[str, Any]:
    scaled = Estimate(requests=est.requests * k, calls=est.calls * k, cached=est.cached * k,
                      prompt_tokens=est.prompt_tokens * k, completion_tokens=est.completion_tokens * k,
                      cost_usd=None if est.cost_usd is None else round(est.cost_usd * k, 4))
    return {**scaled.as_dict(), "seconds": duration_s(scaled, cfg), "model": cfg.model_id}


def stand_in_clusters(low: list[Document], config: DistillConfig) -> list[Document]:
    """Clusters of ``capacity.mean`` low-quality records in id order, per source when clustering is."""
    size = max(config.clustering.capacity.min_size, round(config.clustering.capacity.mean))
    groups: dict[str, list[Document]] = defaultdict(list)
    for doc in sorted(low, key=lambda d: d.id):
        key = str(doc.metadata.get("source") or "unknown") if config.clustering.per_source else "all"
        groups[key].append(doc)
    clusters = []
    for key, docs in sorted(groups.items()):
        for n, start in enumerate(range(0, len(docs) - size + 1, size)):
            clusters.append(make_cluster(docs[start:start + size], f"cluster/{key}/{n:05d}", key))
    return clusters


def stand_in_sample(cluster: Document, max_new_tokens: int) -> Document:
    """A distilled sample as long as the distiller may write, for the re-rating estimate."""
    members = cluster.metadata["members"]
    output = " ".join(m["output"] for m in members)[: 4 * max_new_tokens]
    return Document(text=output, id=cluster.id, metadata={"kind": INSTRUCTION, "instruction": members[0]["instruction"],
                                                          "input": "", "output": output})


def make_plan(config: DistillConfig, *, sample_limit: int = SAMPLE_LIMIT) -> DistillPlan:
    """Estimate calls, tokens, cost and time of every teacher stage of ``config`` without sending a request."""
    records, stride, sample = sample_pools(config, sample_limit)
    scoring, rater = config.scoring, config.scoring.rater
    unscored = [d for d in sample if not isinstance(d.metadata.get("quality"), int)]
    low = [d for d in sample if not isinstance(d.metadata.get("quality"), int) or d.metadata["quality"] < scoring.threshold]
    clusters = stand_in_clusters(low, config)
    stages: dict[str, dict[str, Any]] = {}
    if scoring.rate_missing:
        stages["score"] = _scaled(estimate(unscored, rater, step=RateUnscored(rater)), stride, rater)
    distiller = config.distiller
    if distiller.checkpoint:
        stages["distill"] = {"calls": len(clusters) * stride, "model": distiller.model_id, "cost_usd": None,
                             "seconds": None, "note": "local checkpoint: generations, no teacher calls"}
    else:
        stages["distill"] = _scaled(estimate(clusters, distiller.teacher, step=TeacherDistiller(distiller)),
                                    stride, distiller.teacher)
    if config.merge.rerate:
        samples = [stand_in_sample(c, distiller.max_new_tokens) for c in clusters]
        stages["rerate"] = _scaled(estimate(samples, rater, step=RateUnscored(rater)), stride, rater)
    return DistillPlan(records=records, unscored=min(records, len(unscored) * stride), clusters=len(clusters) * stride,
                       stride=stride, stages=stages)


def plan_lines(config: DistillConfig, plan: DistillPlan) -> list[str]:
    """The dry-run report: one line per teacher stage, then the totals."""
    ex = config.executor
    lines = [f"lm-mixup distill (dry run) → {config.output}",
             f"  pools: {len(config.pools)}, records: {plan.records:,} ({plan.unscored:,} to rate), "
             f"clusters ≈ {plan.clusters:,}" + (f"; estimated on 1 record in {plan.stride}" if plan.stride > 1 else ""),
             f"  executor: {ex.kind}, {ex.tasks} task(s)",
             "  teacher calls, estimated (upper bounds: before dedup, all rated records low quality; cached free):"]
    for name, st in plan.stages.items():
        cost = "no prices configured" if st.get("cost_usd") is None else f"${st['cost_usd']:.2f}"
        if st.get("note"):
            lines.append(f"    {name:<8} {st['calls']:>8,} generations  ({st['note']})")
            continue
        lines.append(f"    {name:<8} {st['calls']:>8,} calls ({st['cached']:,} cached), prompt {st['prompt_tokens']:,} "
                     f"tokens, completion ≤ {st['completion_tokens']:,} tokens, cost {cost}, ≈ {st['seconds']:,.0f} s")
    costs = [st["cost_usd"] for st in plan.stages.values() if st.get("cost_usd") is not None]
    seconds = sum(st.get("seconds") or 0 for st in plan.stages.values())
    lines.append(f"    total    {sum(st['calls'] for st in plan.stages.values()):>8,} calls"
                 + (f", ${sum(costs):.2f}" if costs else "") + f", ≈ {seconds:,.0f} s of teacher time")
    return lines
