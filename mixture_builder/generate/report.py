"""``stats.json`` and the dataset card of a MIXTURE build.

``stats.json`` holds::

    {"stages": {stage: {"in", "out", "dropped": {reason: n}, "params"?, "note"?}},   # the card's stage table
     "steps": {stage: [{"name", "time_s", "stats": {label: total}}]},               # every datatrove step
     "records": {config: {split: n}}, "task_types": {config: {split: {task_type: n}}},
     "cluster_sizes": {"min", "max", "mean"}, "cross_topic_inputs": n,
     "teacher_usage": {label: total}, "timings_s": {stage: seconds}, "parameters": {...}}

Stage counts come from the datatrove stats every step keeps (``{output}/.lm-mixup/logs/<stage>/stats.json``).
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from dataset_cards.dataset_card import DatasetCardInfo, write_dataset_card
from mixture_builder.console import stat_total
from mixture_builder.generate.config import BuildConfig
from mixture_builder.generate.sample_templates import template_versions
from mixture_builder.generate.work_folder import read_stage_stats, stage_dirs
from mixture_builder.step_ids import step_id_of

# Stage → (the step_id of its steps, counter of documents in, counter of documents out).
STAGE_STEPS: tuple[tuple[str, str, str, str], ...] = (
    ("read", "read", "", "documents"),
    ("segment", "segment", "input_documents", "segments"),
    ("keep segments", "keep_segments", "in", "out"),
    ("write samples", "write_samples", "documents", "out"),
    ("write reasoning", "write_reasoning", "documents", "emitted"),
    ("rate", "rate", "documents", "emitted"),
    ("quality filter", "quality_filter", "total", "forwarded"),
    ("teacher variants", "teacher_variants", "documents", "emitted"),
    ("noise variants", "noise_variants", "in", "out"),
    ("assemble", "assemble", "in_targets", "out"),
)
STAGE_NOTES: dict[str, str] = {
    "write samples": "in: passage segments; out: parsed samples (one request per segment and task)",
    "write reasoning": "asks the teacher for the reasoning only where the writer left it out",
    "teacher variants": "out: the targets and their teacher-degraded variants",
    "noise variants": "out: what came in plus the noise variants",
    "assemble": "in: targets; out: records (one per target; variants are folded into its inputs)",
}


def _totals(step: dict[str, Any]) -> dict[str, int]:
    return {label: stat_total(value) for label, value in (step.get("stats") or {}).items()}


def stage_summary(steps: list[dict[str, Any]], in_label: str, out_label: str) -> dict[str, Any]:
    """``{in, out, dropped}`` of the steps of one stage (summed, e.g. one reader per source). A missing
    ``in`` label means in = out + dropped."""
    n_in = n_out = 0
    dropped: Counter[str] = Counter()
    for step in steps:
        totals = _totals(step)
        dropped.update({label.removeprefix("dropped_"): n for label, n in totals.items()
                        if label.startswith("dropped_") and n})
        n_out += totals.get(out_label, 0)
        n_in += totals.get(in_label, 0) if in_label else 0
    if not in_label:
        n_in = n_out + sum(dropped.values())
    summary: dict[str, Any] = {"in": n_in, "out": n_out, "dropped": dict(dropped)}
    if n_out + sum(dropped.values()) > n_in:  # a stage that makes several documents from one
        summary["added"] = n_out + sum(dropped.values()) - n_in
    return summary


def collect_stages(config: BuildConfig) -> tuple[dict[str, Any], dict[str, Any], dict[str, int], dict[str, float]]:
    """Per-stage summaries, per-step raw totals, teacher usage and timings of the finished stages."""

    dirs = stage_dirs(config)
    raw = {stage: read_stage_stats(dirs[stage]) for stage in ("samples", "assemble")}
    every = [step for steps in raw.values() for step in steps]
    stages: dict[str, Any] = {}
    for stage, step_id, in_label, out_label in STAGE_STEPS:
        matching = [step for step in every if step_id_of(step.get("name", "")) == step_id]
        if matching:
            stages[stage] = stage_summary(matching, in_label, out_label)
            if stage in STAGE_NOTES:
                stages[stage]["note"] = STAGE_NOTES[stage]
    usage: Counter[str] = Counter()
    for step in every:
        usage.update({label.removeprefix("teacher_"): n for label, n in _totals(step).items()
                      if label.startswith("teacher_")})
    steps = {stage: [{"name": s.get("name", ""), "time_s": round(stat_total_time(s), 3), "stats": _totals(s)}
                     for s in items] for stage, items in raw.items()}
    timings = {stage: round(sum(item["time_s"] for item in items), 3) for stage, items in steps.items()}
    return stages, steps, dict(usage), timings


def stat_total_time(step: dict[str, Any]) -> float:
    time_stats = step.get("time_stats") or {}
    return float(time_stats.get("total", 0.0)) if isinstance(time_stats, dict) else float(time_stats or 0.0)


def write_stats(config: BuildConfig, tables: dict[str, dict[str, list[dict[str, Any]]]]) -> dict[str, Any]:
    """Write ``{output}/stats.json`` (see the module docstring) and return it."""
    stages, steps, usage, timings = collect_stages(config)
    records = {cfg: {split: len(rows) for split, rows in splits.items()} for cfg, splits in tables.items()}
    task_types = {cfg: {split: dict(Counter(r["task_type"] for r in rows)) for split, rows in splits.items()}
                  for cfg, splits in tables.items()}
    sizes = [len(r["inputs"]) for splits in tables.values() for rows in splits.values() for r in rows]
    cross = sum("cross_topic" in d for splits in tables.values() for rows in splits.values()
                for r in rows for d in r["degradations"])
    stages["dataset"] = {"in": len(sizes), "out": len(sizes), "dropped": {},
                         "note": ", ".join(f"{c}/{s}: {n}" for c, sp in records.items() for s, n in sp.items())}
    stats = {
        "stages": stages,
        "steps": steps,
        "records": records,
        "task_types": task_types,
        "cluster_sizes": {"min": min(sizes, default=0), "max": max(sizes, default=0),
                          "mean": round(sum(sizes) / len(sizes), 2) if sizes else 0.0},
        "cross_topic_inputs": cross,
        "teacher_usage": usage,
        "timings_s": timings,
        "parameters": parameters(config),
    }
    path = config.output_dir / "stats.json"
    path.write_text(json.dumps(stats, indent=2, default=str))
    return stats


def parameters(config: BuildConfig) -> dict[str, Any]:
    """The run-wide parameters shown in the card."""
    return {
        "tasks": config.tasks,
        "quality_threshold": config.quality_threshold,
        "teacher_variants": config.teacher_variants,
        "degradation_styles": config.degradation_styles,
        "noise_variants": config.noise_variants,
        "noise_functions": config.noise_functions,
        "cluster_sizes": f"Normal({config.clusters.mean}, {config.clusters.std}) clipped to "
                         f"[{config.clusters.min_size}, {config.clusters.max_size}]",
        "cross_topic": config.cross_topic,
        "cross_topic_neighbours": config.cross_topic_neighbours,
        "cross_topic_min_similarity": config.cross_topic_min_similarity,
        "sft_fraction": config.sft_fraction,
        "test_fraction": config.test_fraction,
        "seed": config.seed,
    }


def write_card(config: BuildConfig, stats: dict[str, Any]) -> None:
    """Write ``{output}/README.md`` (and its figures) for the built folder."""

    sources = [{"name": src.path if src.path != "package:demo" else "lm-mixup demo corpus", "path": src.path}
               for src in config.sources]
    info = DatasetCardInfo(
        pretty_name=config.dataset_name,
        summary=(
            "MIXTURE-style instruction-distillation data (LM-Mixup, arXiv 2510.20449): each record pairs a "
            "cluster of 2-20 low-quality samples (teacher-degraded and noised variants, plus variants of "
            "semantically similar samples from other passages) with the high-quality sample they came from, "
            "and its chain of thought. Config `sft` is the cold-start SFT share, `grpo` the GRPO share; no "
            "target appears in both."
        ),
        kind="mixture",
        stages=stats["stages"],
        parameters=stats["parameters"],
        teacher=config.teacher.model_id,
        rater=config.rater_config.model_id,
        templates=template_versions(config),
        sources=sources,
        repo_id=config.push_to,
        default_config="sft",
    )
    write_dataset_card(config.output_dir, info)
