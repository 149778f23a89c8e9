"""The sections of a build config: ``SourceConfig`` (``sources:``), ``ClusterSizeConfig`` (``clusters:``)
and ``ExecutorConfig`` (``executor:``); :mod:`mixture_builder.generate.config` assembles them into
``BuildConfig`` (and re-exports them)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mixture_builder.errors import ConfigError

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
    """One folder or file of passages."""

    path: str = field(
        default=DEMO_SOURCE,
        metadata={"help": f"File or folder of passages (any format the readers know), or '{DEMO_SOURCE}'."},
    )
    format: str = field(default="auto", metadata={"help": "Reader format ('auto' guesses from the file)."})
    glob_pattern: str | None = field(
        default=None, metadata={"help": "Files to read inside a folder (e.g. 'AA/wiki_*'); None: all."}
    )
    limit: int = field(
        default=-1,
        metadata={"help": "Read at most this many documents per executor task from this source (-1: all)."},
    )
    source: str | None = field(
        default=None,
        metadata={"help": "Source name recorded on every record (None: from SOURCE.md or the folder)."},
    )
    license: str | None = field(
        default=None,
        metadata={"help": "License recorded on every record (None: from SOURCE.md, else 'unknown')."},
    )

    def __post_init__(self) -> None:
        if not self.path:
            raise ConfigError(
                "empty source path", field="sources.path", fix="name a file or folder of passages"
            )
        if self.limit < -1 or self.limit == 0:
            raise ConfigError(
                f"limit must be -1 or > 0, got {self.limit}",
                field="sources.limit",
                fix="use -1 for all passages",
            )

    @property
    def resolved_path(self) -> Path:
        return demo_corpus_path() if self.path == DEMO_SOURCE else Path(self.path).expanduser()


@dataclass
class ClusterSizeConfig:
    """How many low-quality inputs each record gets: Normal(mean, std) clipped to [min_size, max_size]."""

    min_size: int = field(default=2, metadata={"help": "Fewest inputs per record (the paper: 2)."})
    max_size: int = field(default=20, metadata={"help": "Most inputs per record (the paper: 20)."})
    mean: float = field(default=6.0, metadata={"help": "Mean of the cluster-size distribution."})
    std: float = field(
        default=3.0,
        metadata={"help": "Standard deviation of the cluster-size distribution (0: always the mean)."},
    )

    def __post_init__(self) -> None:
        if not 2 <= self.min_size <= self.max_size <= 20:
            raise ConfigError(
                f"need 2 <= min_size <= max_size <= 20, got {self.min_size}..{self.max_size}",
                field="clusters",
                fix="MIXTURE records have 2-20 inputs",
            )
        if self.std < 0:
            raise ConfigError(f"std must be >= 0, got {self.std}", field="clusters.std", fix="use 0 or more")


@dataclass
class ExecutorConfig:
    """Which datatrove executor runs the pipeline; the pipeline is the same for all of them."""

    kind: str = field(
        default="local",
        metadata={"help": "'local' (LocalPipelineExecutor), 'slurm' (SlurmPipelineExecutor) or 'ray'."},
    )
    tasks: int = field(
        default=1, metadata={"help": "Shards of the per-passage stages (write, rate, degrade)."}
    )
    workers: int = field(default=1, metadata={"help": "Tasks run at once (local; -1: all)."})
    partition: str | None = field(default=None, metadata={"help": "Slurm partition (kind 'slurm')."})
    time: str = field(default="24:00:00", metadata={"help": "Slurm time limit per job."})
    cpus_per_task: int = field(default=1, metadata={"help": "CPUs per Slurm/Ray task."})
    mem_per_cpu_gb: float = field(default=2.0, metadata={"help": "Memory per CPU in GB (Slurm/Ray)."})
    sbatch_args: dict[str, Any] = field(
        default_factory=dict,
        metadata={"help": "Extra sbatch options, e.g. {gres: 'gpu:1'} for a vLLM teacher."},
    )
    venv_path: str | None = field(default=None, metadata={"help": "Virtualenv activated by Slurm jobs."})

    def __post_init__(self) -> None:
        if self.kind not in EXECUTORS:
            raise ConfigError(
                f"unknown executor {self.kind!r}",
                field="executor.kind",
                fix=f"use one of {', '.join(EXECUTORS)}",
            )
        if self.tasks < 1:
            raise ConfigError(
                f"tasks must be >= 1, got {self.tasks}", field="executor.tasks", fix="use 1 or more"
            )
        if self.kind == "slurm" and not self.partition:
            raise ConfigError(
                "executor 'slurm' needs a partition", field="executor.partition", fix="set executor.partition"
            )
