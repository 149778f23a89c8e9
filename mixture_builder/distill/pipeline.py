"""`lm-mixup distill` as datatrove pipelines: one executor per stage, chained with ``depends=``.

::

    decont_index  n-gram index of the benchmark test sets (only with decontamination)
    ingest    read pools → normalise → [decontaminate]                         (tasks = config.tasks)
    dedup     exact + MinHash signatures and duplicate links (clustering.pipelines.dedup_plan)
    score     drop duplicates → existing scores → LLM rater for the rest → require a score
    cluster   high → high/ ; low → capacity clusters per source → clusters/     (1 task: whole dataset)
    distill   distiller → parse (rejects → rejects/)                            (tasks = config.tasks)
    rerate    rater → keep ≥ threshold (dropped → rerate_dropped/)              (tasks = config.tasks)
    assemble  long-tail → rank → merge → Parquet + stats.json + card [+ report] (1 task)

Intermediates (JSONL) and per-stage logs live under ``{output}/.lm-mixup/``. ``LocalPipelineExecutor`` skips
tasks that completed, and a task that is rerun rewrites its own output file, so a killed run resumes without
duplicates; the LLM response cache makes the rerun cheap. A run with a different config starts the stages over.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path
from typing import Any

from mixture_builder.distill.config import DistillConfig

STAGES: tuple[str, ...] = ("decont_index", "ingest", "dedup", "score", "cluster", "distill", "rerate", "assemble")


def stage_dir(config: DistillConfig, name: str) -> Path:
    """Folder of one stage's intermediate output (``{output}/.lm-mixup/<name>``)."""
    return config.work_dir / name


def logs_dir(config: DistillConfig, stage: str) -> Path:
    """datatrove logging folder of one stage."""
    return config.work_dir / "logs" / stage


def config_fingerprint(config: DistillConfig) -> str:
    """A hash of everything that changes the result (the push target and report flag excluded)."""
    data = config.to_dict()
    for key in ("push_to", "private", "report", "workers"):
        data.pop(key, None)
    blob = json.dumps(data, sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def prepare_work_dir(config: DistillConfig, *, fresh: bool = False) -> None:
    """Create ``.lm-mixup/``; start over when ``fresh`` or when the config changed since the last run."""
    work = config.work_dir
    marker = work / "config.json"
    fingerprint = config_fingerprint(config)
    if work.exists() and (fresh or not marker.is_file() or json.loads(marker.read_text()).get("fingerprint")
                          != fingerprint):
        shutil.rmtree(work)
    work.mkdir(parents=True, exist_ok=True)
    marker.write_text(json.dumps({"fingerprint": fingerprint, "config": config.to_dict()}, indent=2, default=str))


def _writer(folder: Path, *, compression: str | None = "gzip"):
    from datatrove.pipeline.writers import JsonlWriter

    return JsonlWriter(str(folder), output_filename="${rank}.jsonl" + (".gz" if compression else ""),
                       compression=compression)


def _reader(folder: Path):
    from mixture_builder.distill.steps import StageOutputReader

    return StageOutputReader(str(folder), glob_pattern="*.jsonl.gz", compression="gzip")


def _executor(config: DistillConfig, stage: str, pipeline: list[Any], *, tasks: int = 1, depends=None):
    from datatrove.executor import LocalPipelineExecutor

    return LocalPipelineExecutor(pipeline=pipeline, tasks=tasks, workers=min(config.workers, tasks)
                                 if config.workers > 0 else tasks, logging_dir=str(logs_dir(config, stage)),
                                 depends=depends)


def _rater(config: DistillConfig, use_cache: bool, *, only_unscored: bool = False):
    """The LLM rater; failed or unparsable ratings keep the record with ``quality=None`` (counted as
    ``unrated_<reason>``) so the next filter drops it into an audit folder."""
    from dataclasses import replace

    from mixture_builder.distill.steps import RateUnscored
    from mixture_builder.teacher.rater import QualityRater

    rater = config.scoring.rater
    cls = RateUnscored if only_unscored else QualityRater
    return cls(replace(rater, use_cache=rater.use_cache and use_cache), on_parse_error="keep")


def ingest_pipeline(config: DistillConfig) -> list[Any]:
    """Readers (one per pool) → normalise → [decontaminate] → ``ingest/``."""
    from mixture_builder.distill.steps import NormaliseInstruction
    from mixture_builder.readers.steps import RawReader

    steps: list[Any] = [
        RawReader(pool.path, format=pool.format, on_error=config.on_error, limit=pool.limit or -1,
                  source=pool.source, license=pool.license, glob_pattern=pool.glob_pattern)
        for pool in config.pools
    ]
    steps.append(NormaliseInstruction())
    if config.decontamination.test_sets:
        from mixture_builder.distill.decont import decont_filter

        dec = config.decontamination
        steps.append(decont_filter(str(config.work_dir / "decont_index"), n_grams=dec.n_grams,
                                   find_query_ngrams=dec.find_query_ngrams,
                                   exclusion_writer=_writer(stage_dir(config, "contaminated"))))
    steps.append(_writer(stage_dir(config, "ingest")))
    return steps


def build_executors(config: DistillConfig, *, use_cache: bool = True) -> dict[str, Any]:
    """The chained stage executors (the last one's ``run()`` runs them all)."""
    from mixture_builder.clustering.pipelines import dedup_plan
    from mixture_builder.distill.assemble import AssembleDataset
    from mixture_builder.distill.clusters import SplitAndCluster
    from mixture_builder.distill.distiller import distiller_step
    from mixture_builder.distill.steps import AttachExistingScore, ParseDistillation, RequireScore

    executors: dict[str, Any] = {}
    previous = None
    if config.decontamination.test_sets:
        from mixture_builder.distill.decont import BenchmarkIndexer

        dec = config.decontamination
        executors["decont_index"] = previous = _executor(config, "decont_index", [BenchmarkIndexer(
            str(config.work_dir / "decont_index"), dec.test_sets, n_grams=dec.n_grams,
            find_query_ngrams=dec.find_query_ngrams)])
    executors["ingest"] = previous = _executor(config, "ingest", ingest_pipeline(config), tasks=config.tasks,
                                               depends=previous)
    # exact + MinHash dedup (the clustering package's plan): preparatory runs now, the filters in "score"
    plan = dedup_plan(lambda: _reader(stage_dir(config, "ingest")), config.work_dir / "dedup", tasks=config.tasks,
                      exact=config.dedup.exact, near=config.dedup.near,
                      exclusion_writer=lambda kind: _writer(stage_dir(config, f"{kind}_duplicates")),
                      executor_factory=lambda pipeline, *, tasks, name, depends=None: _executor(
                          config, name, pipeline, tasks=tasks, depends=depends),
                      depends=previous)
    if plan.executors:
        executors["dedup"] = previous = plan.last
    scoring = config.scoring
    score_steps: list[Any] = [_reader(stage_dir(config, "ingest")), *plan.steps,
                              AttachExistingScore(scoring.score_column, scoring.scores_file)]
    if scoring.rate_missing:
        score_steps.append(_rater(config, use_cache, only_unscored=True))
    score_steps += [RequireScore(exclusion_writer=_writer(stage_dir(config, "unscored"))),
                    _writer(stage_dir(config, "scored"))]
    executors["score"] = previous = _executor(config, "score", score_steps, tasks=config.tasks, depends=previous)
    clustering = config.clustering
    executors["cluster"] = previous = _executor(config, "cluster", [
        _reader(stage_dir(config, "scored")),
        SplitAndCluster(_writer(stage_dir(config, "high")), threshold=scoring.threshold,
                        capacity=clustering.capacity, per_source=clustering.per_source,
                        embedding_model=clustering.embedding_model),
        _writer(stage_dir(config, "clusters")),
    ], depends=previous)
    executors["distill"] = previous = _executor(config, "distill", [
        _reader(stage_dir(config, "clusters")),
        distiller_step(config.distiller, use_cache=use_cache),
        ParseDistillation(exclusion_writer=_writer(stage_dir(config, "rejects")),
                          strict_format=config.distiller.strict),
        _writer(stage_dir(config, "distilled")),
    ], tasks=config.tasks, depends=previous)
    if config.merge.rerate:
        from mixture_builder.teacher.rater import QualityFilter

        executors["rerate"] = previous = _executor(config, "rerate", [
            _reader(stage_dir(config, "distilled")),
            _rater(config, use_cache),
            QualityFilter(threshold=scoring.threshold, exclusion_writer=_writer(stage_dir(config, "rerate_dropped"))),
            _writer(stage_dir(config, "rerated")),
        ], tasks=config.tasks, depends=previous)
    executors["assemble"] = _executor(config, "assemble", [AssembleDataset(config)], depends=previous)
    return executors


def check_inputs(config: DistillConfig) -> None:
    """Fail before any work when a local input path is missing (URLs are left to the readers)."""
    from mixture_builder.errors import ConfigError

    paths = [(f"pools[{i}].path", pool.path) for i, pool in enumerate(config.pools)]
    paths += [(f"decontamination.test_sets[{i}]", p) for i, p in enumerate(config.decontamination.test_sets)]
    if config.scoring.scores_file:
        paths.append(("scoring.scores_file", config.scoring.scores_file))
    for field, path in paths:
        if "://" not in path and not Path(path).exists():
            raise ConfigError(f"{path} does not exist", field=field, fix="give an existing file or folder")


def run_distill(config: DistillConfig, *, use_cache: bool = True, fresh: bool = False) -> dict[str, Any]:
    """Run (or resume) a distillation; returns the run's ``stats.json`` content.

    ``use_cache=False`` bypasses the LLM response cache and starts every stage over.
    """
    check_inputs(config)
    prepare_work_dir(config, fresh=fresh or not use_cache)
    executors = build_executors(config, use_cache=use_cache)
    executors["assemble"].run()
    stats_path = Path(config.output) / "stats.json"
    stats = json.loads(stats_path.read_text()) if stats_path.is_file() else {}
    if config.push_to:
        from hub.push import push_folder

        stats["pushed_to"] = push_folder(config.output, config.push_to, private=config.private,
                                         message="lm-mixup distill")
    return stats
