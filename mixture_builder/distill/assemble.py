"""The last stage: long-tail scores → rank → merge → Parquet shards + ``stats.json`` + card [+ report].

``stats.json`` holds::

    {"stages": {stage: {"in", "out", "dropped": {reason: n}, "merged"?, "note"?}},   # in = out + dropped + merged
     "input_records": n, "output": {"rows", "distilled", "original"},
     "input_records_represented": n, "fraction_kept": x, "fraction_represented": x,
     "quality_before": {score: n}, "quality_after": {origin: {score: n}},
     "teacher_usage": {stage: {label: n}}, "distiller": str, "rater": str, "parameters": {...}}
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from datatrove.data import Document, DocumentsPipeline
from datatrove.pipeline.base import PipelineStep

from dataset_cards.layout import write_dataset_folder
from mixture_builder.clustering.steps import stored_or_embedded
from mixture_builder.distill.card import write_card
from mixture_builder.distill.config import DistillConfig
from mixture_builder.distill.distiller import distiller_id
from mixture_builder.distill.report import write_report
from mixture_builder.distill.select import add_long_tail, distilled_row, long_tail_text, original_row, select
from mixture_builder.distill.stats import distribution, dropped, filter_stage, step_totals
from mixture_builder.distill.work_folder import logs_dir, read_docs, stage_dir
from mixture_builder.step_ids import totals_of

_USAGE = ("requests", "cache_hits", "failed", "prompt_tokens", "completion_tokens", "retries", "parse_failures",
          "repairs", "cost_micro_usd")



class AssembleDataset(PipelineStep):
    """Write the distilled dataset folder from the intermediates of the earlier stages (one task)."""

    name = "📦 Assemble the distilled dataset"
    type = "💽 - WRITER"

    def __init__(self, config: DistillConfig) -> None:
        super().__init__()
        self.config = config

    def run(self, data: DocumentsPipeline = None, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        config = self.config
        work = config.work_dir
        kept_folder = "rerated" if config.merge.rerate else "distilled"
        kept, high = read_docs(work / kept_folder), read_docs(work / "high")
        distilled, originals = [distilled_row(d) for d in kept], [original_row(d) for d in high]
        doc_ids = [d.id for d in kept] + [d.id for d in high]  # row order; the ids the embed steps stored
        del kept, high
        with self.track_time("long_tail"):
            add_long_tail(distilled + originals, k=config.merge.long_tail_k,
                          vectors=self._vectors(doc_ids, distilled + originals))
        chosen_d, chosen_o = select(distilled, originals, config.merge)
        rows = chosen_d + chosen_o
        out = Path(config.output)
        write_dataset_folder(out, {"default": {"train": rows}})
        stats = run_stats(config, distilled, originals, chosen_d, chosen_o)
        (out / "stats.json").write_text(json.dumps(stats, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        if rows:
            write_card(config, stats, chosen_d)
        if config.report:
            write_report(config, stats, {r["id"]: r for r in rows},
                         {r["id"]: r for r in distilled})
        self.stat_update("rows", value=len(rows))
        return
        yield  # a generator with nothing to pass on

    def _vectors(self, doc_ids: list[str], rows: list[dict[str, Any]]):
        """The rows' vectors, stored by the sharded ``embed`` and distilled-sample embedding steps; rows they
        have not embedded (a work folder of an older layout) are embedded here, with the same text."""
        config = self.config
        vectors, embedded = stored_or_embedded(
            [stage_dir(config, "embeddings_distilled"), stage_dir(config, "embeddings")], doc_ids,
            lambda i: long_tail_text(rows[i]), config.clustering.embedding_model)
        if embedded:
            self.stat_update("embedded_here", value=embedded)
        return vectors


def pool_stages(config: DistillConfig) -> dict[str, dict[str, Any]]:
    """Stage rows of the pool's preparation: read, normalise, [decontaminate,] exact/near dedup, score."""
    
    stages: dict[str, dict[str, Any]] = {}
    ingest = step_totals(logs_dir(config, "ingest"))
    read = totals_of(ingest, "read")
    read_out = read.get("documents", 0)
    read_dropped = dropped(read)
    stages["read"] = {"in": read_out + sum(read_dropped.values()), "out": read_out, "dropped": read_dropped}
    stages["normalise"] = filter_stage(totals_of(ingest, "normalise"))
    if config.decontamination.test_sets:
        stages["decontaminate"] = filter_stage(totals_of(ingest, "decontaminate"),
                                               note="n-gram overlap with " + ", ".join(
                                                   Path(p).name for p in config.decontamination.test_sets))
    score = step_totals(logs_dir(config, "score"))
    dups = totals_of(score, "duplicate_filter")  # the exact and the near filter, summed (same step name)
    n_unique = _last_out(stages)
    for key, reason in (("exact", "exact_duplicate"), ("near", "near_duplicate")):
        if getattr(config.dedup, key):
            removed = dups.get(f"dropped_{reason}", 0)
            stages[f"{key} dedup"] = {"in": n_unique, "out": n_unique - removed,
                                      "dropped": {reason: removed} if removed else {}}
            n_unique -= removed
    existing = totals_of(score, "existing_scores")
    scored_in = existing.get("scored_from_column", 0) + existing.get("unscored", 0)
    stages["score"] = {"in": scored_in, "out": totals_of(score, "require_score").get("forwarded", 0),
                       "dropped": {k: v for k, v in _all_drops(score).items() if not k.endswith("_duplicate")},
                       "note": (
        f"{existing.get('scored_from_column', 0)} scores taken from existing data, "
        f"{existing.get('unscored', 0)} records sent to the rater")}
    return stages


def run_stats(config: DistillConfig, distilled: list[dict[str, Any]], originals: list[dict[str, Any]],
              chosen_d: list[dict[str, Any]], chosen_o: list[dict[str, Any]]) -> dict[str, Any]:
    """The run's counts (see the module docstring)."""
    
    stages = pool_stages(config)
    split = totals_of(step_totals(logs_dir(config, "cluster")), "split_and_cluster")
    high, low, clusters = split.get("high", 0), split.get("low", 0), split.get("clusters", 0)
    too_few = split.get("dropped_too_few_to_cluster", 0)
    stages["split high/low"] = {"in": split.get("total", 0), "out": high + low, "dropped": {},
                                "note": f"{high} high (quality >= {config.scoring.threshold}) kept as originals, "
                                        f"{low} low sent to clustering"}
    stages["cluster low"] = {"in": low, "out": clusters, "dropped": {"too_few_to_cluster": too_few} if too_few else {},
                             "merged": split.get("clustered", 0) - clusters,
                             "note": "out counts clusters; merged counts records folded into them"}
    distill = step_totals(logs_dir(config, "distill"))
    stages["distill"] = filter_stage(totals_of(distill, "parse_distillations"), note="dropped: rejected completions "
                                     "(kept in .lm-mixup/rejects/)")
    usage = {"distill": teacher_usage(distill)}
    if config.merge.rerate:
        rerate = step_totals(logs_dir(config, "rerate"))
        stages["re-rate"] = {"in": stages["distill"]["out"], "out": len(distilled), "dropped": _all_drops(rerate)}
        usage["rerate"] = teacher_usage(rerate)
    usage["score"] = teacher_usage(step_totals(logs_dir(config, "score")))
    n_sel = len(chosen_d) + len(chosen_o)
    not_sel = {k: v for k, v in {"distilled_not_selected": len(distilled) - len(chosen_d),
                                  "original_not_selected": len(originals) - len(chosen_o)}.items() if v}
    stages["merge"] = {"in": len(distilled) + len(originals), "out": n_sel, "dropped": not_sel}
    n_input = stages["read"]["in"]
    represented = len(chosen_o) + sum(len(r["source_ids"]) for r in chosen_d)
    before = [d.metadata.get("quality") for d in _scored(config)]
    return {
        "stages": stages,
        "input_records": n_input,
        "output": {"rows": n_sel, "distilled": len(chosen_d), "original": len(chosen_o)},
        "input_records_represented": represented,
        "fraction_kept": round(n_sel / n_input, 4) if n_input else 0.0,
        "fraction_represented": round(represented / n_input, 4) if n_input else 0.0,
        "quality_before": distribution(before),
        "quality_after": {"distilled": distribution([r["quality"] for r in chosen_d]),
                          "original": distribution([r["quality"] for r in chosen_o])},
        "teacher_usage": usage,
        "distiller": _distiller_name(config),
        "rater": config.scoring.rater.model_id if config.scoring.rate_missing or config.merge.rerate else None,
        "parameters": _parameters(config),
    }


def _scored(config: DistillConfig) -> list[Document]:
    return read_docs(config.work_dir / "scored")


def _last_out(stages: dict[str, dict[str, Any]]) -> int:
    return int(list(stages.values())[-1]["out"])


def _all_drops(totals: dict[str, dict[str, int]]) -> dict[str, int]:
    """Drop reasons summed over every step of a stage."""
    out: dict[str, int] = {}
    for labels in totals.values():
        for reason, n in dropped(labels).items():
            out[reason] = out.get(reason, 0) + n
    return out


def teacher_usage(totals: dict[str, dict[str, int]]) -> dict[str, int]:
    """LLM usage of a stage: the teacher steps' ``teacher_*`` counters (a checkpoint's bare ones)."""
    summed: dict[str, int] = {}
    for labels in totals.values():
        for label, value in labels.items():
            key = label.removeprefix("teacher_")
            if key in _USAGE and (label.startswith("teacher_") or "teacher_requests" not in labels):
                summed[key] = summed.get(key, 0) + value
    return summed


def _distiller_name(config: DistillConfig) -> str:
    return distiller_id(config.distiller)


def _parameters(config: DistillConfig) -> dict[str, Any]:
    cap = config.clustering.capacity
    return {
        "quality_threshold": config.scoring.threshold,
        "cluster_sizes": f"{cap.min_size}-{cap.max_size}, mean {cap.mean}, std {cap.std}",
        "per_source": config.clustering.per_source,
        "long_tail_k": config.merge.long_tail_k,
        "top_n": config.merge.top_n, "ratio": config.merge.ratio, "size": config.merge.size,
        "rerate": config.merge.rerate,
        "distiller_max_new_tokens": config.distiller.max_new_tokens,
    }
