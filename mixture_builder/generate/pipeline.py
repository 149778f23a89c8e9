"""The MIXTURE build as datatrove pipelines, and ``build_mixture``: the Python API behind ``lm-mixup build``.

Stages (each a datatrove pipeline with its own logging dir under ``{output}/.lm-mixup/logs/``; later ones
``depends=`` on earlier ones, so Slurm and Ray run the same graph):

1. ``samples`` (``executor.tasks`` shards): read passages → segment → teacher writes one sample per task
   (and, when it left it out, its reasoning) → rate → keep ≥ threshold → teacher variants → noise variants
   → JSONL.
2. ``assemble`` (one task): embed targets → split → clusters with cross-topic neighbours → records JSONL.
3. ``publish`` (one task): Parquet shards, ``stats.json``, card.
4. ``push`` (one task, only with ``push_to``): upload the folder to the Hub.

A rerun with the same output resumes: datatrove skips the tasks its logging dirs mark complete, writers
overwrite a killed task's files, and the teacher's cache answers the requests already made. A rerun with other
settings or edited sources is refused (naming what changed) unless ``fresh=True`` (``--fresh``) starts over.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mixture_builder.console import with_progress
from mixture_builder.generate.config import BuildConfig
from mixture_builder.generate.sample_templates import template_versions
from mixture_builder.generate.steps import AssembleMixture, NoiseVariants, PushFolder, WriteMixtureDataset
from mixture_builder.generate.teacher_steps import DegradeSamples, WriteReasoning, WriteSamples, source_steps
from mixture_builder.generate.work_folder import stage_dirs
from mixture_builder.input_fingerprint import input_fingerprint
from mixture_builder.metadata_flow import check_metadata_flow
from mixture_builder.step_ids import tag_steps
from mixture_builder.teacher.rater import QualityFilter, QualityRater
from mixture_builder.work_dir import check_inputs_exist, local_path, prepare_work_dir, teacher_fingerprint

# Options that do not change what the build produces (a rerun may change them freely). Of the executor only
# ``tasks`` counts: it decides how datatrove shards the input, and completion is recorded per task rank.
_VOLATILE = {"output", "push_to", "private", "executor", "dataset_name", "input_hash"}


@dataclass
class BuildResult:
    """What a finished build produced."""

    output: Path
    stats: dict[str, Any] = field(default_factory=dict)
    pushed_to: str | None = None
    wall_time_s: float = 0.0

    @property
    def records(self) -> dict[str, dict[str, int]]:
        return self.stats.get("records", {})


def config_fingerprint(config: BuildConfig) -> dict[str, Any]:
    """What changes the build's output: the options (not the output or push settings, nor the executor except
    its ``tasks``, nor the teacher's request knobs) and the prompt template versions."""

    data = {k: v for k, v in config.to_dict().items() if k not in _VOLATILE}
    data["executor_tasks"] = config.executor.tasks
    data["templates"] = template_versions(config)
    for name in ("teacher", "rater"):
        if data.get(name):
            data[name] = teacher_fingerprint(data[name])
    for source in data["sources"]:
        source["path"] = local_path(source["path"]) if ":" not in source["path"] else source["path"]
    return data


def check_work_dir(config: BuildConfig, *, fresh: bool = False) -> None:
    """Refuse to resume an output folder that was started with other settings or from other source files (see
    :mod:`mixture_builder.work_dir`); ``fresh`` starts over."""

    sources = {f"sources[{i}].path": source.resolved_path for i, source in enumerate(config.sources)}
    check_inputs_exist(((name, str(path)) for name, path in sources.items()), config_fields=True)
    inputs = input_fingerprint(sources, content_hash=config.input_hash, exclude=[config.output_dir])
    prepare_work_dir(config.work_dir, config_fingerprint(config), inputs=inputs, on_change="refuse",
                     output=config.output_dir, fresh=fresh)


def samples_pipeline(config: BuildConfig) -> list[Any]:
    """Stage 1: passages → rated targets and their low-quality variants."""
    from datatrove.pipeline.writers import JsonlWriter

    dirs = stage_dirs(config)
    steps: list[Any] = list(source_steps(config))
    steps.append(WriteSamples(config))
    steps.append(WriteReasoning(config))
    on_parse_error = "keep" if config.keep_unrated else "drop"
    steps.append(QualityRater(config.rater_config, task_key="task", on_parse_error=on_parse_error, text_only=True))
    steps.append(QualityFilter(threshold=config.quality_threshold, keep_unrated=config.keep_unrated))
    if config.teacher_variants:
        steps.append(DegradeSamples(config))
    if config.noise_variants:
        steps.append(NoiseVariants(config.noise_variants, config.noise_functions, config.noise_max_ops, config.seed))
    steps.append(JsonlWriter(str(dirs["samples_data"])))
    return steps


def assemble_pipeline(config: BuildConfig) -> list[Any]:
    """Stage 2: all targets and variants → MIXTURE records."""
    from datatrove.pipeline.readers import JsonlReader
    from datatrove.pipeline.writers import JsonlWriter

    dirs = stage_dirs(config)
    return [
        JsonlReader(str(dirs["samples_data"]), glob_pattern="*.jsonl.gz"),
        AssembleMixture(config),
        JsonlWriter(str(dirs["records_data"])),
    ]


def publish_pipeline(config: BuildConfig) -> list[Any]:
    """Stage 3: records → Parquet shards, stats.json, card."""
    from datatrove.pipeline.readers import JsonlReader

    return [JsonlReader(str(stage_dirs(config)["records_data"]), glob_pattern="*.jsonl.gz"),
            WriteMixtureDataset(config)]


def push_pipeline(config: BuildConfig) -> list[Any]:
    """Stage 4: upload the output folder to ``config.push_to``."""

    return [PushFolder(str(config.output_dir), config.push_to, private=config.private)]


def make_executors(config: BuildConfig) -> dict[str, Any]:
    """One executor per stage, chained with ``depends=``."""
    dirs = stage_dirs(config)
    stages: list[tuple[str, list[Any], int]] = [
        ("samples", samples_pipeline(config), config.executor.tasks),
        ("assemble", assemble_pipeline(config), 1),
        ("publish", publish_pipeline(config), 1),
    ]
    if config.push_to:
        stages.append(("push", push_pipeline(config), 1))
    check_metadata_flow([pipeline for _, pipeline, _ in stages])
    executors: dict[str, Any] = {}
    previous = None
    for name, pipeline, tasks in stages:
        executors[name] = previous = _executor(config, name, pipeline, tasks, str(dirs[name]), previous)
    return executors


def _executor(config: BuildConfig, name: str, pipeline: list[Any], tasks: int, logging_dir: str, depends: Any):
    return config.executor.make(tag_steps(with_progress(pipeline, logging_dir)), name=name, tasks=tasks, logging_dir=logging_dir,
                                depends=depends)


def build_mixture(config: BuildConfig, *, fresh: bool = False) -> BuildResult:
    """Run (or resume) the whole build; returns the output folder and its ``stats.json`` content.

    ``fresh`` deletes the work folder first (the teacher's cache still answers the requests already made).
    With the Slurm executor this submits the jobs and returns at once (``stats`` stays empty).
    """
    start = time.monotonic()
    check_work_dir(config, fresh=fresh)
    executors = make_executors(config)
    last = list(executors.values())[-1]
    last.run()  # runs (or submits) its dependencies first
    stats_path = config.output_dir / "stats.json"
    stats = json.loads(stats_path.read_text()) if stats_path.is_file() else {}
    return BuildResult(output=config.output_dir, stats=stats, pushed_to=config.push_to,
                       wall_time_s=time.monotonic() - start)
