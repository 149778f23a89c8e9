"""``evaluate_distiller(config)``: run a distiller on a MIXTURE split, score it and two trivial baselines with the
GRPO rewards, write eval.json / results.md / eval.png (and the model card's results with ``config.card``).

Resumable: completions are appended per batch to ``{output}/.lm-mixup/completions.jsonl`` and a rerun skips
the records already there (the teacher cache answers the rest of an interrupted batch); a rerun with other
settings into the same output is refused. :func:`rescore` recomputes every figure from a saved eval.json.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from mixture_builder.work_dir import prepare_work_dir, teacher_fingerprint

from ..data import load_mixture
from .card import add_card_results
from .config import EvalConfig
from .generation import (
    BASELINES,
    baseline_completions,
    check_records,
    generate_completions,
    generation_settings,
)
from .metrics import Scorers, summarize_by_task
from .report import EvalReport

logger = logging.getLogger(__name__)
COMPLETIONS_FILE = "completions.jsonl"
SAVED_FIELDS = ("text", "finish_reason", "error")


def load_records(config: EvalConfig) -> list[dict[str, Any]]:
    """The split's records (the first ``config.limit``), checked for the fields the metrics need."""
    dataset = load_mixture(config.dataset, config.dataset_config, config.split, revision=config.revision)
    if config.limit is not None:
        dataset = dataset.select(range(min(config.limit, len(dataset))))
    records = [dict(row) for row in dataset]
    check_records(records, f"{config.dataset} ({config.dataset_config}/{config.split})")
    return records


def scorers_for(config: EvalConfig) -> Scorers:
    teacher = config.quality_teacher.to_dict() if config.quality_teacher is not None else None
    return Scorers(alignment_threshold=config.alignment_threshold, quality_reward=config.quality_reward,
                   quality_library=config.quality_library, quality_k=config.quality_k, quality_teacher=teacher,
                   embedding_model=config.embedding_model, embedding_device=config.embedding_device)


def score_systems(records: Sequence[dict[str, Any]], systems: dict[str, list[dict[str, Any]]], scorers: Scorers,
                  meta: dict[str, Any]) -> EvalReport:
    """Score each system's completions (one per record, in order) and build the report."""
    references = [r["output"] for r in records]
    task_types = [r["task_type"] for r in records]
    out_records = [{"id": r["id"], "task_type": r["task_type"], "output": r["output"], "completions": {}}
                   for r in records]
    summaries = {}
    for name, completions in systems.items():
        rows = scorers.score(completions, references, task_types)
        summaries[name] = summarize_by_task(rows, task_types)
        for record, completion, row in zip(out_records, completions, rows):
            record["completions"][name] = {**{k: completion.get(k) for k in SAVED_FIELDS}, "metrics": row}
    meta = {**meta, "records": len(records), "scoring": scorers.settings(), "systems": list(systems)}
    return EvalReport(meta=meta, systems=summaries, records=out_records)


def rescore(path: str | Path, **overrides: Any) -> EvalReport:
    """Recompute every figure of a saved eval.json from its saved completions (``overrides`` change scorer
    settings, e.g. another ``quality_library``)."""
    saved = EvalReport.load(path)
    scorers = Scorers(**{**saved.meta["scoring"], **overrides})
    records = saved.records
    systems = {name: [{"id": r["id"], **{k: r["completions"][name][k] for k in SAVED_FIELDS}} for r in records]
               for name in saved.meta["systems"]}
    meta = {k: v for k, v in saved.meta.items() if k not in ("records", "scoring", "systems")}
    return score_systems(records, systems, scorers, meta)


def fingerprint(config: EvalConfig) -> dict[str, Any]:
    """Everything that changes the distiller's completions."""
    distiller = config.distiller
    return {"dataset": config.dataset, "dataset_config": config.dataset_config, "split": config.split,
            "revision": config.revision, "checkpoint": distiller.checkpoint, "engine": distiller.engine,
            "max_new_tokens": distiller.max_new_tokens, "temperature": distiller.temperature,
            "teacher": None if distiller.checkpoint else teacher_fingerprint(distiller.teacher.to_dict())}


def evaluate_distiller(config: EvalConfig) -> EvalReport:
    """Evaluate ``config.distiller`` and the baselines on the MIXTURE split; write the outputs into
    ``config.output``; return the report."""
    scorers = scorers_for(config)  # fails fast on a missing library, before any generation
    records = load_records(config)
    output = Path(config.output)
    work = output / ".lm-mixup"
    prepare_work_dir(work, fingerprint(config), output=output)
    systems = {config.distiller_name: generate_completions(records, config.distiller, work / COMPLETIONS_FILE,
                                                           use_cache=config.use_cache)}
    for name in BASELINES:
        systems[name] = baseline_completions(records, name)
    meta = {"dataset": config.dataset, "dataset_config": config.dataset_config, "split": config.split,
            "revision": config.revision, "limit": config.limit, "distiller_name": config.distiller_name,
            "generation": generation_settings(config.distiller)}
    report = score_systems(records, systems, scorers, meta)
    if config.card:
        report.meta["card"] = str(add_card_results(config.distiller.checkpoint, report))
    report.write(output)
    return report
