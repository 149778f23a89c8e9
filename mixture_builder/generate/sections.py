"""The sections of a build config: ``SourceConfig`` (``sources:``), ``ClusterSizeConfig`` (``clusters:``)
and ``ExecutorConfig`` (``executor:``, with per-stage ``StageResources``); :mod:`mixture_builder.generate.config` assembles them into
``BuildConfig`` (and re-exports them)."""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any, ClassVar

from mixture_builder.config_io import help_field
from mixture_builder.errors import ConfigError
from mixture_builder.ray_stages import RayStageExecutor

DEMO_SOURCE = "package:demo"
"""``SourceConfig.path`` value naming the demo corpus shipped in the package."""

DEGRADATION_STYLES: tuple[str, ...] = ("shallow", "incomplete_reasoning", "unclear_prompt", "partly_wrong")
"""The ways the teacher is asked to degrade a sample (the ``degrade`` template knows each)."""

EXECUTORS = ("local", "slurm", "ray")


def demo_corpus_path() -> Path:
    """The packaged demo corpus (``mixture_builder/generate/demo/passages.jsonl``)."""
    return Path(__file__).parent / "demo" / "passages.jsonl"


@dataclass
class SourceConfig:
    """One folder or file of passages (in YAML, a plain string is the path)."""

    shorthand_field: ClassVar[str] = "path"
    path: str = help_field(
        f"File or folder of passages (any format the readers know), or '{DEMO_SOURCE}'.", default=DEMO_SOURCE
    )
    format: str = help_field("Reader format ('auto' guesses from the file).", default="auto")
    glob_pattern: str | None = help_field(
        "Files to read inside a folder (e.g. 'AA/wiki_*'); None: all.",
        default=None,
    )
    limit: int = help_field(
        "Read at most this many documents per executor task from this source (-1: all).",
        default=-1,
    )
    source: str | None = help_field(
        "Source name recorded on every record (None: from SOURCE.md or the folder).",
        default=None,
    )
    license: str | None = help_field(
        "License recorded on every record (None: from SOURCE.md, else 'unknown').",
        default=None,
    )

    def __post_init__(self) -> None:
        if not self.path:
            raise ConfigError(
                "empty source path", field="path", fix="name a file or folder of passages"
            )
        if self.limit < -1 or self.limit == 0:
            raise ConfigError(
                f"limit must be -1 or > 0, got {self.limit}",
                field="limit",
                fix="use -1 for all passages",
            )

    @property
    def resolved_path(self) -> Path:
        return demo_corpus_path() if self.path == DEMO_SOURCE else Path(self.path).expanduser()


@dataclass
class ClusterSizeConfig:
    """How many low-quality inputs each record gets: Normal(mean, std) clipped to [min_size, max_size]."""

    min_size: int = help_field("Fewest inputs per record (the paper: 2).", default=2)
    max_size: int = help_field("Most inputs per record (the paper: 20).", default=20)
    mean: float = help_field("Mean of the cluster-size distribution.", default=6.0)
    std: float = help_field(
        "Standard deviation of the cluster-size distribution (0: always the mean).",
        default=3.0,
    )

    def __post_init__(self) -> None:
        if not 2 <= self.min_size <= self.max_size <= 20:
            raise ConfigError(
                f"need 2 <= min_size <= max_size <= 20, got {self.min_size}..{self.max_size}",
                field="min_size",
                fix="MIXTURE records have 2-20 inputs",
            )
        if self.std < 0:
            raise ConfigError(f"std must be >= 0, got {self.std}", field="std", fix="use 0 or more")


@dataclass
class StageResources:
    """What one stage's Slurm jobs or Ray tasks ask for, over the executor's own settings (unset: the
    executor's), e.g. a GPU partition for ``embed`` or a big node for a vLLM teacher's stage."""

    partition: str | None = help_field("Slurm partition of this stage (None: the executor's).", default=None)
    cpus_per_task: int | None = help_field("CPUs per task of this stage (None: the executor's).", default=None)
    gpus_per_task: int | None = help_field("GPUs per task of this stage (None: the executor's).", default=None)
    mem_per_cpu_gb: float | None = help_field("Memory per CPU in GB (None: the executor's).", default=None)
    time: str | None = help_field("Slurm time limit per job of this stage (None: the executor's).", default=None)
    sbatch_args: dict[str, Any] = help_field(
        "Extra sbatch options of this stage, merged over the executor's.", default_factory=dict
    )

    def __post_init__(self) -> None:
        for name, minimum in (("cpus_per_task", 1), ("gpus_per_task", 0), ("mem_per_cpu_gb", 0)):
            value = getattr(self, name)
            if value is not None and value < minimum:
                raise ConfigError(f"{name} must be >= {minimum}, got {value}", field=name,
                                  fix="leave it out to use the executor's")


@dataclass
class ExecutorConfig:
    """Which datatrove executor runs the pipeline; the pipeline is the same for all of them."""

    kind: str = help_field(
        "'local' (LocalPipelineExecutor), 'slurm' (SlurmPipelineExecutor) or 'ray'.",
        default="local",
    )
    tasks: int = help_field(
        "Shards of the record-wise stages (build: write, rate, degrade; distill/select: ingest, dedup "
        "signatures, scoring, embedding, distillation, re-rating).",
        default=1,
    )
    workers: int = help_field(
        "Tasks run at once (local; -1: all). Ray runs as many as its resources allow.", default=1
    )
    partition: str | None = help_field("Slurm partition (kind 'slurm').", default=None)
    time: str = help_field("Slurm time limit per job.", default="24:00:00")
    cpus_per_task: int = help_field("CPUs per Slurm/Ray task.", default=1)
    gpus_per_task: int = help_field("GPUs per Slurm/Ray task (usually set per stage, see 'stages').", default=0)
    mem_per_cpu_gb: float = help_field("Memory per CPU in GB (Slurm/Ray).", default=2.0)
    tasks_per_job: int = help_field(
        "Tasks run one after another in one Slurm job or Ray task (fewer, longer jobs for many small shards).",
        default=1,
    )
    sbatch_args: dict[str, Any] = help_field(
        "Extra sbatch options, e.g. {qos: high}.",
        default_factory=dict,
    )
    venv_path: str | None = help_field("Virtualenv activated by Slurm jobs.", default=None)
    stages: dict[str, StageResources] = help_field(
        "Per-stage resources over these (Slurm/Ray), by stage name, e.g. {embed: {partition: gpu, "
        "gpus_per_task: 1}}; a name the job has no stage of is an error listing its stages.",
        default_factory=dict,
    )

    def __post_init__(self) -> None:
        if self.kind not in EXECUTORS:
            raise ConfigError(
                f"unknown executor {self.kind!r}",
                field="kind",
                fix=f"use one of {', '.join(EXECUTORS)}",
            )
        if self.tasks < 1:
            raise ConfigError(
                f"tasks must be >= 1, got {self.tasks}", field="tasks", fix="use 1 or more"
            )
        if self.tasks_per_job < 1:
            raise ConfigError(
                f"tasks_per_job must be >= 1, got {self.tasks_per_job}", field="tasks_per_job", fix="use 1 or more"
            )
        if self.gpus_per_task < 0:
            raise ConfigError(
                f"gpus_per_task must be >= 0, got {self.gpus_per_task}", field="gpus_per_task", fix="use 0 or more"
            )
        if self.kind == "slurm" and not self.partition:
            raise ConfigError(
                "executor 'slurm' needs a partition", field="partition", fix="set executor.partition"
            )

    def check_stage_names(self, known: Iterable[str], *, where: str = "executor") -> None:
        """A ``stages`` key that names no stage of the job is an error listing the ones it has."""
        known = list(known)
        for name in self.stages:
            if name not in known:
                raise ConfigError(f"unknown stage {name!r}", field=f"{where}.stages.{name}",
                                  fix=f"use one of {', '.join(known)}")

    def for_stage(self, name: str) -> ExecutorConfig:
        """This executor with stage ``name``'s resources applied (and no per-stage table left)."""
        stage = self.stages.get(name)
        if stage is None:
            return replace(self, stages={})
        overrides = {f.name: value for f in fields(stage)
                     if f.name != "sbatch_args" and (value := getattr(stage, f.name)) is not None}
        return replace(self, **overrides, sbatch_args={**self.sbatch_args, **stage.sbatch_args}, stages={})

    def threads_per_task(self, tasks: int) -> int:
        """CPU threads a task of a ``tasks``-task stage may use: this machine's cores shared by the tasks run at
        once (local), else ``cpus_per_task``."""
        if self.kind != "local":
            return self.cpus_per_task
        at_once = tasks if self.workers < 1 else min(self.workers, tasks)
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
        return max(1, cores // at_once)

    def make(self, pipeline: list[Any], *, name: str, tasks: int, logging_dir: str, depends: Any = None) -> Any:
        """The datatrove executor of one stage (``pipeline`` run as ``tasks`` tasks after ``depends``), with the
        stage's own resources when ``stages`` names it."""
        if self.stages:
            return self.for_stage(name).make(pipeline, name=name, tasks=tasks, logging_dir=logging_dir,
                                             depends=depends)
        if self.kind == "local":
            from datatrove.executor import LocalPipelineExecutor

            workers = tasks if self.workers < 1 else min(self.workers, tasks)
            return LocalPipelineExecutor(pipeline=pipeline, tasks=tasks, workers=workers, logging_dir=logging_dir,
                                         depends=depends)
        if self.kind == "slurm":
            from datatrove.executor import SlurmPipelineExecutor

            return SlurmPipelineExecutor(
                pipeline=pipeline, tasks=tasks, time=self.time, partition=self.partition,
                cpus_per_task=self.cpus_per_task, gpus_per_task=self.gpus_per_task,
                mem_per_cpu_gb=self.mem_per_cpu_gb, tasks_per_job=self.tasks_per_job, job_name=f"lm-mixup-{name}",
                sbatch_args=self.sbatch_args or None, venv_path=self.venv_path, logging_dir=logging_dir,
                depends=depends,
            )
        # Ray runs as many tasks at once as its resources allow (cpus, GPUs and memory per task)
        return RayStageExecutor(pipeline, tasks=tasks, workers=-1, logging_dir=logging_dir,
                                cpus_per_task=self.cpus_per_task, gpus_per_task=self.gpus_per_task,
                                mem_per_cpu_gb=self.mem_per_cpu_gb, tasks_per_job=self.tasks_per_job,
                                depends=depends)
