"""`lm-mixup select`: the paper's data-selection baselines as datasets shaped like a `distill` output.

The pool goes through distill's own stages (``distill.pipeline.pool_executors``: read → normalise →
[decontaminate] → exact + MinHash dedup → existing scores or the LLM rater), into ``{output}/.lm-mixup/`` with
the same layout, resume and settings guard as distill. Ratings go through the teacher's response cache, so a
run after ``distill`` on the same pools and config sends no rating request. Each method then writes
``{output}/<method>/``: Parquet shards with distill's columns, ``stats.json`` and a card.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from datatrove.data import Document

from dataset_cards.layout import write_dataset_folder
from mixture_builder.clustering.steps import stored_or_embedded
from mixture_builder.console import stage_console
from mixture_builder.distill.assemble import pool_stages, read_docs, teacher_usage
from mixture_builder.distill.config import DistillConfig
from mixture_builder.distill.pipeline import check_inputs, embed_executor, logs_dir, pool_executors, stage_dir
from mixture_builder.distill.select import add_long_tail, long_tail_text, original_row
from mixture_builder.distill.stats import distribution, step_totals
from mixture_builder.errors import InputError
from mixture_builder.select.card import write_select_card
from mixture_builder.select.config import SelectConfig
from mixture_builder.select.methods import select_rows
from mixture_builder.teacher.rater import RATE_TEMPLATE
from mixture_builder.teacher.templates import load_template
from mixture_builder.work_dir import local_path, prepare_work_dir, teacher_fingerprint

logger = logging.getLogger(__name__)


def pool_fingerprint(config: DistillConfig) -> dict[str, Any]:
    """What changes the scored pool: the pool-preparation settings and the rater's prompt template."""

    data = config.to_dict()
    keep = {key: data[key] for key in ("pools", "on_error", "dedup", "scoring", "decontamination")}
    keep["embedding_model"] = config.clustering.embedding_model  # the stored vectors ds2 reads
    keep["tasks"] = config.executor.tasks  # the work folder's shards
    keep["scoring"]["rater"] = teacher_fingerprint(keep["scoring"].get("rater"))
    for pool in keep["pools"]:
        pool["path"] = local_path(pool["path"])
    keep["templates"] = {"rate_quality": load_template(RATE_TEMPLATE).version}
    return keep


def existing_value(doc: Document, column: str | None) -> float | None:
    """The raw value of a record's existing score (before rounding to 0–5), when it came from a column."""
    meta = doc.metadata
    if not column or meta.get("quality_origin") != "column":
        return None
    signals = meta.get("quality_signals")
    for value in (signals.get(column) if isinstance(signals, dict) else None, meta.get(column)):
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
    return None


def score_pool(config: DistillConfig, *, use_cache: bool = True, fresh: bool = False, quiet: bool = False,
               embed: bool = False) -> list[Document]:
    """Run (or resume) distill's pool stages into ``config.work_dir``; the deduplicated, scored records
    (``quiet``: one line per stage on the console, as ``lm-mixup distill``). ``embed`` adds distill's sharded
    ``embed`` stage, which stores every scored record's vector under ``embeddings/``."""
    check_inputs(config)
    prepare_work_dir(config.work_dir, pool_fingerprint(config), on_change="restart", output=config.output,
                     fresh=fresh or not use_cache)
    executors = pool_executors(config, use_cache=use_cache)
    if embed:
        executors["embed"] = embed_executor(config, depends=executors["score"])
    with stage_console(executors, logs_dir(config, "console.log"), verbose=not quiet):
        list(executors.values())[-1].run()
    return read_docs(stage_dir(config, "scored"))


def run_select(config: SelectConfig, *, use_cache: bool = True, fresh: bool = False,
               quiet: bool = False) -> dict[str, Any]:
    """Write every configured baseline to ``{selection.output}/<method>/``; returns
    ``{"output", "input_records", "pool", "teacher_usage", "methods": {method: {"rows", "path"}}}``."""
    work = config.work_config
    selection = config.selection
    docs = score_pool(work, use_cache=use_cache, fresh=fresh, quiet=quiet, embed="ds2" in selection.methods)
    stages = pool_stages(work)
    usage = teacher_usage(step_totals(logs_dir(work, "score")))
    if not docs:
        raise InputError("no deduplicated, scored records to select from", path=str(work.work_dir),
                         fix="check the pools and scoring (score_column, scores_file, rate_missing); counts per "
                             f"stage: {json.dumps({k: v['out'] for k, v in stages.items()})}")
    rows = [original_row(doc) for doc in docs]
    existing = {doc.id: value for doc in docs
                if (value := existing_value(doc, work.scoring.score_column)) is not None}
    ranked = rows  # ds2's rows carry the long-tail score; the others keep long_tail empty, whatever runs with them
    if "ds2" in selection.methods:
        ranked = [dict(row) for row in rows]
        vectors, _ = stored_or_embedded([stage_dir(work, "embeddings")], [row["id"] for row in ranked],
                                        lambda i: long_tail_text(ranked[i]), work.clustering.embedding_model)
        add_long_tail(ranked, k=work.merge.long_tail_k, vectors=vectors)
    summary: dict[str, Any] = {"output": selection.output, "input_records": stages["read"]["in"],
                               "pool": len(rows), "teacher_usage": {"score": usage}, "methods": {}}
    for method in selection.methods:
        chosen = select_rows(method, ranked if method == "ds2" else rows, selection, existing)
        folder = write_method(config, method, chosen, rows, stages, usage)
        summary["methods"][method] = {"rows": len(chosen), "path": str(folder)}
    return summary


def write_method(config: SelectConfig, method: str, chosen: list[dict[str, Any]], pool: list[dict[str, Any]],
                 stages: dict[str, dict[str, Any]], usage: dict[str, int]) -> Path:
    """``{output}/<method>/``: Parquet shards, ``stats.json`` and the card."""
    selection, work = config.selection, config.work_config
    folder = Path(selection.output) / method
    if selection.size is not None and method != "full" and selection.size > len(pool):
        logger.warning("%s: size %d is larger than the pool (%d rows); taking all", method, selection.size, len(pool))
    write_dataset_folder(folder, {"default": {"train": chosen}})
    n_input = stages["read"]["in"]
    stats = {
        "method": method,
        "stages": {**stages, f"select ({method})": {"in": len(pool), "out": len(chosen),
                                                    "dropped": {"not_selected": len(pool) - len(chosen)}
                                                    if len(pool) > len(chosen) else {}}},
        "input_records": n_input,
        "pool_rows": len(pool),
        "output": {"rows": len(chosen), "distilled": 0, "original": len(chosen)},
        "fraction_kept": round(len(chosen) / n_input, 4) if n_input else 0.0,
        "quality_before": distribution([r["quality"] for r in pool]),
        "quality_after": {"original": distribution([r["quality"] for r in chosen])},
        "teacher_usage": {"score": usage},
        "rater": work.scoring.rater.model_id if work.scoring.rate_missing else None,
        "parameters": {"method": method, "size": selection.size, "fraction": selection.fraction,
                       "seed": selection.seed, "quality_threshold": work.scoring.threshold,
                       "long_tail_k": work.merge.long_tail_k if method == "ds2" else None},
    }
    (folder / "stats.json").write_text(json.dumps(stats, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    if chosen:
        write_select_card(config, method, folder, stats)
    return folder
