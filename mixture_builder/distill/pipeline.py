"""`lm-mixup distill` as datatrove pipelines: one executor per stage, chained with ``depends=``.

::

    decont_index  n-gram index of the benchmark test sets (only with decontamination)
    ingest    read pools → normalise → [decontaminate] → shards by id           (N tasks)
    dedup     exact + MinHash signatures (N tasks), buckets, duplicate links     (clustering.pipelines.dedup_plan)
    score     drop duplicates → existing scores → LLM rater for the rest → require a score   (N tasks)
    embed     scored records → sentence embeddings (embeddings/)                  (N tasks)
    cluster   high → high/ ; low → capacity clusters per source → clusters/     (1 task: whole dataset)
    distill   distiller → parse (rejects → rejects/)                            (N tasks)
    rerate    rater → keep ≥ threshold (dropped → rerate_dropped/) → embed      (N tasks)
    assemble  long-tail → rank → merge → Parquet + stats.json + card [+ report] (1 task)

Every text is embedded once, in a sharded stage: the scored records (clustering uses the low-quality ones'
vectors, the long-tail score the high-quality ones') and the kept distilled samples (``embeddings_distilled/``,
written by the last of distill/rerate), so assembly only runs the nearest-neighbour search.

N is ``executor.tasks``; every stage is one datatrove executor of ``executor.kind`` (local, Slurm, Ray) chained
with ``depends=``. Records are split into shards by a hash of their id (:mod:`.sharding`), duplicates keep the
smallest id and clusters are formed over id-sorted records, so the output does not depend on N.

Intermediates (JSONL) and per-stage logs live under ``{output}/.lm-mixup/``. ``LocalPipelineExecutor`` skips
tasks that completed, and a task that is rerun rewrites its own output file, so a killed run resumes without
duplicates; the LLM response cache makes the rerun cheap. A run whose settings (see ``config_fingerprint``) or
input files (``input_paths``: content, size, mtime; Hub commits) changed starts the stages over and logs one
WARNING naming what changed; the cache answers the requests of unchanged records.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from hub.push import push_folder
from mixture_builder.clustering.pipelines import dedup_plan
from mixture_builder.clustering.steps import EmbedStep
from mixture_builder.console import stage_console, with_progress
from mixture_builder.distill.assemble import AssembleDataset
from mixture_builder.distill.checkpoint import checkpoint_fingerprint
from mixture_builder.distill.clusters import SplitAndCluster
from mixture_builder.distill.config import DistillConfig
from mixture_builder.distill.decont import BenchmarkIndexer, decont_filter
from mixture_builder.distill.distiller import distill_template, distiller_step
from mixture_builder.distill.plan import make_plan
from mixture_builder.distill.sharding import PoolReader, ShardedReader, ShardedWriter
from mixture_builder.distill.steps import (
    AttachExistingScore,
    NormaliseInstruction,
    ParseDistillation,
    RateUnscored,
    RequireScore,
    StageOutputReader,
)
from mixture_builder.distill.work_folder import logs_dir, stage_dir
from mixture_builder.input_fingerprint import input_fingerprint
from mixture_builder.metadata_flow import check_metadata_flow
from mixture_builder.step_ids import tag_steps
from mixture_builder.teacher.rater import RATE_TEMPLATE, QualityFilter, QualityRater
from mixture_builder.teacher.templates import load_template
from mixture_builder.work_dir import check_inputs_exist, local_path, teacher_fingerprint
from mixture_builder.work_dir import prepare_work_dir as prepare


def config_fingerprint(config: DistillConfig) -> dict[str, Any]:
    """Everything that changes the result or the work folder's layout: the options (not the push target,
    report flag, the executor but its tasks, or the teachers' request knobs), the prompt template versions
    and the distilling checkpoint's content."""

    data = config.to_dict()
    for key in ("output", "push_to", "private", "report", "executor", "input_hash"):
        data.pop(key, None)
    data["tasks"] = config.executor.tasks
    data["scoring"]["rater"] = teacher_fingerprint(data["scoring"].get("rater"))
    data["distiller"]["teacher"] = teacher_fingerprint(data["distiller"].get("teacher"))
    for pool in data["pools"]:
        pool["path"] = local_path(pool["path"])
    if config.distiller.checkpoint:
        data["distiller"]["checkpoint_content"] = checkpoint_fingerprint(config.distiller.checkpoint)
    data["templates"] = {"distill": distill_template().version, "rate_quality": load_template(RATE_TEMPLATE).version}
    return data


def input_paths(config: DistillConfig) -> dict[str, str]:
    """The run's input files and folders by config field: pools, decontamination test sets, scores file."""
    paths = {f"pools[{i}].path": pool.path for i, pool in enumerate(config.pools)}
    paths |= {f"decontamination.test_sets[{i}]": p for i, p in enumerate(config.decontamination.test_sets)}
    if config.scoring.scores_file:
        paths["scoring.scores_file"] = config.scoring.scores_file
    return paths


def prepare_work_dir(config: DistillConfig, *, fresh: bool = False) -> None:
    """Create ``.lm-mixup/``; start over (with a WARNING naming what changed) when the settings or the input
    files changed since the last run, or when ``fresh``."""

    inputs = input_fingerprint(input_paths(config), content_hash=config.input_hash, exclude=[config.output])
    prepare(config.work_dir, config_fingerprint(config), inputs=inputs, on_change="restart",
            output=config.output, fresh=fresh)


def _writer(folder: Path, *, compression: str | None = "gzip"):
    from datatrove.pipeline.writers import JsonlWriter

    return JsonlWriter(str(folder), output_filename="${rank}.jsonl" + (".gz" if compression else ""),
                       compression=compression)


def _reader(folder: Path):
    return StageOutputReader(str(folder), glob_pattern="*.jsonl.gz", compression="gzip")


def _executor(config: DistillConfig, stage: str, pipeline: list[Any], *, tasks: int = 1, depends=None):
    logging_dir = logs_dir(config, stage)
    return config.executor.make(tag_steps(with_progress(pipeline, logging_dir)), name=stage, tasks=tasks,
                                logging_dir=str(logging_dir), depends=depends)


def _rater(config: DistillConfig, use_cache: bool, *, only_unscored: bool = False):
    """The LLM rater; failed or unparsable ratings keep the record with ``quality=None`` (counted as
    ``unrated_<reason>``) so the next filter drops it into an audit folder."""
    from dataclasses import replace

    rater = config.scoring.rater
    cls = RateUnscored if only_unscored else QualityRater
    return cls(replace(rater, use_cache=rater.use_cache and use_cache), on_parse_error="keep")


def ingest_pipeline(config: DistillConfig) -> list[Any]:
    """Readers (one per pool) → normalise → [decontaminate] → ``ingest/``."""

    steps: list[Any] = [
        PoolReader(pool.path, format=pool.format, on_error=config.on_error, limit=pool.limit or -1,
                   source=pool.source, license=pool.license, glob_pattern=pool.glob_pattern, offset=i)
        for i, pool in enumerate(config.pools)
    ]
    steps.append(NormaliseInstruction())
    if config.decontamination.test_sets:
        dec = config.decontamination
        steps.append(decont_filter(str(config.work_dir / "decont_index"), n_grams=dec.n_grams,
                                   find_query_ngrams=dec.find_query_ngrams,
                                   exclusion_writer=_writer(stage_dir(config, "contaminated"))))
    steps.append(ShardedWriter(str(stage_dir(config, "ingest")), config.executor.tasks))
    return steps


def pool_executors(config: DistillConfig, *, use_cache: bool = True) -> dict[str, Any]:
    """The chained executors of the stages that prepare the pool: [decont_index →] ingest → dedup → score
    (``scored/``: deduplicated records with a 0–5 ``quality``). ``lm-mixup select`` runs only these."""

    executors: dict[str, Any] = {}
    previous = None
    if config.decontamination.test_sets:
        dec = config.decontamination
        executors["decont_index"] = previous = _executor(config, "decont_index", [BenchmarkIndexer(
            str(config.work_dir / "decont_index"), dec.test_sets, n_grams=dec.n_grams,
            find_query_ngrams=dec.find_query_ngrams)])
    tasks = config.executor.tasks
    executors["ingest"] = previous = _executor(config, "ingest", ingest_pipeline(config), tasks=tasks,
                                               depends=previous)
    # exact + MinHash dedup (the clustering package's plan): preparatory runs now, the filters in "score"
    plan = dedup_plan(lambda: ShardedReader(str(stage_dir(config, "ingest"))), config.work_dir / "dedup", tasks=tasks,
                      exact=config.dedup.exact, near=config.dedup.near,
                      exclusion_writer=lambda kind: _writer(stage_dir(config, f"{kind}_duplicates")),
                      executor_factory=lambda pipeline, *, tasks, name, depends=None: _executor(
                          config, name, pipeline, tasks=tasks, depends=depends),
                      depends=previous, keep="smallest_id")
    for executor in plan.executors:
        executors[Path(executor.logging_dir.path).name] = previous = executor
    scoring = config.scoring
    score_steps: list[Any] = [ShardedReader(str(stage_dir(config, "ingest"))), *plan.steps,
                              AttachExistingScore(scoring.score_column, scoring.scores_file)]
    if scoring.rate_missing:
        score_steps.append(_rater(config, use_cache, only_unscored=True))
    score_steps += [RequireScore(exclusion_writer=_writer(stage_dir(config, "unscored"))),
                    _writer(stage_dir(config, "scored"))]
    executors["score"] = _executor(config, "score", score_steps, tasks=tasks, depends=previous)
    return executors


def embed_executor(config: DistillConfig, *, depends: Any) -> Any:
    """The ``embed`` stage: every scored record's vector into ``embeddings/`` (one shard per task)."""
    return _executor(config, "embed", [_reader(stage_dir(config, "scored")), _embed_step(config, "embeddings", stage="embed")],
                     tasks=config.executor.tasks, depends=depends)


def build_executors(config: DistillConfig, *, use_cache: bool = True) -> dict[str, Any]:
    """The chained stage executors (the last one's ``run()`` runs them all)."""

    executors = pool_executors(config, use_cache=use_cache)
    tasks = config.executor.tasks
    scoring = config.scoring
    clustering = config.clustering
    executors["embed"] = previous = embed_executor(config, depends=executors["score"])
    executors["cluster"] = previous = _executor(config, "cluster", [
        _reader(stage_dir(config, "scored")),
        SplitAndCluster(_writer(stage_dir(config, "high")), threshold=scoring.threshold,
                        capacity=clustering.capacity, per_source=clustering.per_source,
                        embedding_model=clustering.embedding_model,
                        embeddings_folder=str(stage_dir(config, "embeddings"))),
        ShardedWriter(str(stage_dir(config, "clusters")), tasks),
    ], depends=previous)
    distilled = [_embed_step(config, "embeddings_distilled", stage="distill")] if not config.merge.rerate else []
    executors["distill"] = previous = _executor(config, "distill", [
        ShardedReader(str(stage_dir(config, "clusters"))),
        distiller_step(config.distiller, use_cache=use_cache),
        ParseDistillation(exclusion_writer=_writer(stage_dir(config, "rejects")),
                          strict_format=config.distiller.strict),
        *distilled,
        _writer(stage_dir(config, "distilled")),
    ], tasks=tasks, depends=previous)
    if config.merge.rerate:
        executors["rerate"] = previous = _executor(config, "rerate", [
            _reader(stage_dir(config, "distilled")),
            _rater(config, use_cache),
            QualityFilter(threshold=scoring.threshold, exclusion_writer=_writer(stage_dir(config, "rerate_dropped"))),
            _embed_step(config, "embeddings_distilled", stage="rerate"),
            _writer(stage_dir(config, "rerated")),
        ], tasks=tasks, depends=previous)
    executors["assemble"] = _executor(config, "assemble", [AssembleDataset(config)], depends=previous)
    check_metadata_flow([executor.pipeline for executor in executors.values()])
    return executors


def _embed_step(config: DistillConfig, folder: str, *, stage: str) -> EmbedStep:
    """Embeds the records passing through stage ``stage`` into ``{work}/{folder}`` (one shard per task; see
    ``EmbedStep``), with that stage's CPUs as torch threads."""
    clustering = config.clustering
    return EmbedStep(str(stage_dir(config, folder)), model_name=clustering.embedding_model, group_by=None,
                     batch_size=clustering.embedding_batch_size, device=clustering.embedding_device,
                     threads=config.executor.for_stage(stage).threads_per_task(config.executor.tasks))


def check_inputs(config: DistillConfig) -> None:
    """Fail before any work when a local input path is missing (URLs are left to the readers)."""

    check_inputs_exist(input_paths(config).items(), config_fields=True)


def run_plan(config: DistillConfig) -> dict[str, Any]:
    """The run's cost estimate (:mod:`.plan`), made once before its first stage and kept in the work folder,
    so a resumed run reports the estimate made before any request was sent."""
    path = config.work_dir / "plan.json"
    if path.is_file():
        return json.loads(path.read_text())
    plan = make_plan(config).as_dict()
    path.write_text(json.dumps(plan, indent=2) + "\n")
    return plan


def run_distill(config: DistillConfig, *, use_cache: bool = True, fresh: bool = False,
                quiet: bool = False) -> dict[str, Any]:
    """Run (or resume) a distillation; returns the run's ``stats.json`` content.

    ``use_cache=False`` bypasses the LLM response cache and starts every stage over. ``quiet`` prints one line
    per stage and sends the libraries' logs to ``{output}/.lm-mixup/logs/console.log`` (:mod:`~.console`).
    """
    check_inputs(config)
    prepare_work_dir(config, fresh=fresh or not use_cache)
    executors = build_executors(config, use_cache=use_cache)
    with stage_console(executors, logs_dir(config, "console.log"), verbose=not quiet):
        plan = run_plan(config)
        executors["assemble"].run()
    stats_path = Path(config.output) / "stats.json"
    stats = json.loads(stats_path.read_text()) if stats_path.is_file() else {}
    if stats:
        stats["estimate"] = plan
        stats_path.write_text(json.dumps(stats, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    if config.push_to:
        stats["pushed_to"] = push_folder(config.output, config.push_to, private=config.private,
                                         message="lm-mixup distill")
    return stats
