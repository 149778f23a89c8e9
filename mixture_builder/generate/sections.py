"""The sections of a build config: ``SourceConfig`` (``sources:``), ``ClusterSizeConfig`` (``clusters:``)
and ``ExecutorConfig`` (``executor:``); :mod:`mixture_builder.generate.config` assembles them into
``BuildConfig`` (and re-exports them)."""

from __future__ import annotations

import os
from dataclasses import dataclass
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
    mem_per_cpu_gb: float = help_field("Memory per CPU in GB (Slurm/Ray).", default=2.0)
    sbatch_args: dict[str, Any] = help_field(
        "Extra sbatch options, e.g. {gres: 'gpu:1'} for a vLLM teacher.",
        default_factory=dict,
    )
    venv_path: str | None = help_field("Virtualenv activated by Slurm jobs.", default=None)

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
        if self.kind == "slurm" and not self.partition:
            raise ConfigError(
                "executor 'slurm' needs a partition", field="partition", fix="set executor.partition"
            )

    def threads_per_task(self, tasks: int) -> int:
        """CPU threads a task of a ``tasks``-task stage may use: this machine's cores shared by the tasks run at
        once (local), else ``cpus_per_task``."""
        if self.kind != "local":
            return self.cpus_per_task
        at_once = tasks if self.workers < 1 else min(self.workers, tasks)
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
        return max(1, cores // at_once)

    def make(self, pipeline: list[Any], *, name: str, tasks: int, logging_dir: str, depends: Any = None) -> Any:
        """The datatrove executor of one stage (``pipeline`` run as ``tasks`` tasks after ``depends``)."""
        if self.kind == "local":
            from datatrove.executor import LocalPipelineExecutor

            workers = tasks if self.workers < 1 else min(self.workers, tasks)
            return LocalPipelineExecutor(pipeline=pipeline, tasks=tasks, workers=workers, logging_dir=logging_dir,
                                         depends=depends)
        if self.kind == "slurm":
            from datatrove.executor import SlurmPipelineExecutor

            return SlurmPipelineExecutor(
                pipeline=pipeline, tasks=tasks, time=self.time, partition=self.partition,
                cpus_per_task=self.cpus_per_task, mem_per_cpu_gb=self.mem_per_cpu_gb, job_name=f"lm-mixup-{name}",
                sbatch_args=self.sbatch_args or None, venv_path=self.venv_path, logging_dir=logging_dir,
                depends=depends,
            )
        # Ray runs as many tasks at once as its resources allow (cpus_per_task, mem_per_cpu_gb per task)
        return RayStageExecutor(pipeline, tasks=tasks, workers=-1, logging_dir=logging_dir,
                                cpus_per_task=self.cpus_per_task, mem_per_cpu_gb=self.mem_per_cpu_gb, depends=depends)
