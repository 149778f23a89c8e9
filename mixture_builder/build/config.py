"""``BuildConfig``: everything ``lm-mixup build`` needs — one dataclass for Python, the CLI and YAML.

A YAML file mirrors the dataclasses (``sources:`` a list, ``teacher:``/``rater:``/``clusters:``/``executor:``
mappings); unknown keys are errors that name the key and the known ones. ``BuildConfig()`` alone is the
embedded demo: the packaged demo corpus, the embedded SmolLM2 teacher, the local executor.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field, fields, is_dataclass
from pathlib import Path
from typing import Any

from mixture_builder.errors import ConfigError
from mixture_builder.mixture_format import TASKS
from mixture_builder.teacher.config import TeacherConfig

DEMO_SOURCE = "package:demo"
"""``SourceConfig.path`` value naming the demo corpus shipped in the package."""

DEGRADATION_STYLES: tuple[str, ...] = ("shallow", "incomplete_reasoning", "unclear_prompt", "partly_wrong")
"""The ways the teacher is asked to degrade a sample (the ``degrade`` template knows each)."""

EXECUTORS = ("local", "slurm", "ray")


def demo_corpus_path() -> Path:
    """The packaged demo corpus (``mixture_builder/build/demo/passages.jsonl``)."""
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


@dataclass
class BuildConfig:
    """A MIXTURE build: sources → teacher samples → rating → low-quality variants → clusters → splits."""

    output: str = field(
        default="mixture-output",
        metadata={
            "help": "Output folder (Parquet shards, stats.json, README.md; intermediates in .lm-mixup/)."
        },
    )
    sources: list[SourceConfig] = field(
        default_factory=lambda: [SourceConfig()], metadata={"help": "Where the passages come from."}
    )
    on_error: str = field(
        default="raise",
        metadata={
            "help": "Bad input records: 'raise' (stop with a clear error) or 'skip' (count and go on)."
        },
    )
    segment_max_tokens: int = field(
        default=384, metadata={"help": "Split longer passages into segments of about this many tokens."}
    )
    segment_min_tokens: int = field(
        default=30, metadata={"help": "Drop segments shorter than this many tokens (headings, stray lines)."}
    )
    segments_per_document: int = field(
        default=-1, metadata={"help": "Use at most this many segments of each document (-1: all)."}
    )
    tasks: list[str] = field(
        default_factory=lambda: list(TASKS),
        metadata={"help": "Task types written per passage (the paper: all five)."},
    )
    tasks_per_passage: int | None = field(
        default=None,
        metadata={
            "help": "Task mix: write only this many of `tasks` per passage, rotating with the passage (None: all)."
        },
    )
    task_weights: dict[str, float] | None = field(
        default=None,
        metadata={"help": "Task mix with tasks_per_passage: relative weight of each task when choosing a "
                  "passage's tasks (None: equal; e.g. favour a task the teacher often fails)."},
    )
    keep_unrated: bool = field(
        default=False,
        metadata={"help": "Keep targets the rater could not score (their quality is recorded as 0)."},
    )
    inline_reasoning: bool | list[str] = field(
        default=True,
        metadata={"help": "Ask for the chain of thought in the same request as the sample (one call): true for "
                  "every task, or a list of tasks. Other tasks get the sample alone, then its reasoning in a second "
                  "request (shorter replies, which small models follow more reliably)."},
    )
    repair_replies: bool = field(
        default=True,
        metadata={
            "help": "Ask the teacher once more, with the parse error, when a written sample does not parse."
        },
    )
    teacher: TeacherConfig = field(
        default_factory=TeacherConfig, metadata={"help": "The LLM writing and degrading samples."}
    )
    rater: TeacherConfig | None = field(
        default=None, metadata={"help": "The LLM rating samples (None: the teacher)."}
    )
    quality_threshold: int = field(
        default=4, metadata={"help": "Keep targets rated >= this (0-5 compressed score; the paper: 4)."}
    )
    teacher_variants: int = field(
        default=2, metadata={"help": "Low-quality variants the teacher writes per target."}
    )
    degradation_styles: list[str] = field(
        default_factory=lambda: list(DEGRADATION_STYLES),
        metadata={"help": f"Styles the teacher variants cycle through: {', '.join(DEGRADATION_STYLES)}."},
    )
    noise_variants: int = field(
        default=4, metadata={"help": "Low-quality variants made by noise functions per target."}
    )
    noise_functions: list[str] = field(
        default_factory=lambda: ["typos", "repetition", "truncation", "shuffled_sentences", "filler"],
        metadata={
            "help": "Noise functions to draw from (typos, repetition, truncation, shuffled_sentences, filler)."
        },
    )
    noise_max_ops: int = field(default=2, metadata={"help": "Most noise functions applied to one variant."})
    clusters: ClusterSizeConfig = field(
        default_factory=ClusterSizeConfig, metadata={"help": "Cluster-size distribution."}
    )
    cross_topic: bool = field(
        default=True,
        metadata={"help": "Merge variants of semantically similar targets (other passages) into clusters."},
    )
    cross_topic_neighbours: int = field(
        default=3, metadata={"help": "Nearest same-task targets whose variants may join a cluster."}
    )
    cross_topic_min_similarity: float = field(
        default=0.3, metadata={"help": "Cosine similarity a neighbour target needs to contribute."}
    )
    embedding_model: str | None = field(
        default=None, metadata={"help": "sentence-transformers model for embeddings (None: offline MiniLM)."}
    )
    sft_fraction: float = field(
        default=0.3,
        metadata={"help": "Share of targets in the SFT config; the rest go to GRPO (the paper: 0.3)."},
    )
    test_fraction: float = field(
        default=0.1, metadata={"help": "Share of each config's targets in its test split (the paper: 0.1)."}
    )
    seed: int = field(
        default=42, metadata={"help": "Seed of splits, cluster sizes and noise (the paper: 42)."}
    )
    shard_size_bytes: int = field(default=256 * 2**20, metadata={"help": "Largest Parquet shard."})
    executor: ExecutorConfig = field(default_factory=ExecutorConfig, metadata={"help": "Executor settings."})
    push_to: str | None = field(
        default=None, metadata={"help": "Hub dataset repo to publish to after the build (None: no push)."}
    )
    private: bool = field(default=False, metadata={"help": "Create the Hub repo private."})
    dataset_name: str = field(default="MIXTURE", metadata={"help": "Pretty name of the dataset in its card."})

    def __post_init__(self) -> None:
        def bad(name: str, problem: str, fix: str) -> ConfigError:
            return ConfigError(problem, field=name, fix=fix)

        if self.on_error not in ("raise", "skip"):
            raise bad("on_error", f"unknown value {self.on_error!r}", "use 'raise' or 'skip'")
        if not self.sources:
            raise bad("sources", "no sources", "list at least one source folder or file")
        unknown = [task for task in self.tasks if task not in TASKS]
        if unknown or not self.tasks:
            raise bad("tasks", f"unknown or empty task list {self.tasks}", f"use some of {', '.join(TASKS)}")
        bad_styles = [style for style in self.degradation_styles if style not in DEGRADATION_STYLES]
        if bad_styles or (self.teacher_variants and not self.degradation_styles):
            raise bad(
                "degradation_styles",
                f"unknown styles {bad_styles or self.degradation_styles}",
                f"use some of {', '.join(DEGRADATION_STYLES)}",
            )
        from mixture_builder.build.noise import NOISE_FUNCTIONS

        bad_noise = [name for name in self.noise_functions if name not in NOISE_FUNCTIONS]
        if bad_noise or (self.noise_variants and not self.noise_functions):
            raise bad(
                "noise_functions",
                f"unknown noise functions {bad_noise or self.noise_functions}",
                f"use some of {', '.join(NOISE_FUNCTIONS)}",
            )
        for name in ("teacher_variants", "noise_variants", "cross_topic_neighbours"):
            if getattr(self, name) < 0:
                raise bad(name, f"must be >= 0, got {getattr(self, name)}", "use 0 or more")
        if self.teacher_variants + self.noise_variants < 1:
            raise bad(
                "noise_variants",
                "no low-quality variants would be made",
                "set teacher_variants or noise_variants to 1 or more",
            )
        if self.tasks_per_passage is not None and self.tasks_per_passage < 1:
            raise bad(
                "tasks_per_passage",
                f"must be >= 1 or null, got {self.tasks_per_passage}",
                "use null for every task",
            )
        if self.task_weights is not None:
            bad_tasks = [t for t in self.task_weights if t not in self.tasks]
            if bad_tasks or any(w <= 0 for w in self.task_weights.values()):
                raise bad("task_weights", f"weights need tasks from `tasks` and values > 0, got {self.task_weights}",
                          "e.g. {mcq: 3.0}; unlisted tasks weigh 1")
        if not isinstance(self.inline_reasoning, bool) and any(t not in TASKS for t in self.inline_reasoning):
            raise bad("inline_reasoning", f"unknown task in {self.inline_reasoning}",
                      f"use true, false or a list of {', '.join(TASKS)}")
        if self.segments_per_document == 0 or self.segments_per_document < -1:
            raise bad(
                "segments_per_document",
                f"must be -1 or > 0, got {self.segments_per_document}",
                "use -1 for all segments",
            )
        if self.noise_max_ops < 1 or self.segment_max_tokens < 16:
            raise bad(
                "noise_max_ops",
                "noise_max_ops must be >= 1 and segment_max_tokens >= 16",
                "use larger values",
            )
        if not 0 <= self.quality_threshold <= 5:
            raise bad(
                "quality_threshold", f"must be in 0..5, got {self.quality_threshold}", "use 0-5 (paper: 4)"
            )
        if not 0 < self.sft_fraction < 1 or not 0 <= self.test_fraction < 1:
            raise bad(
                "sft_fraction",
                f"need 0 < sft_fraction < 1 and 0 <= test_fraction < 1, got "
                f"{self.sft_fraction}, {self.test_fraction}",
                "paper: 0.3 and 0.1",
            )
        if not -1 <= self.cross_topic_min_similarity <= 1:
            raise bad("cross_topic_min_similarity", "must be in [-1, 1]", "use a cosine similarity")

    # ------------------------------------------------------------------ derived
    def reasoning_inline_for(self, task: str) -> bool:
        """Whether the writer of ``task`` samples is asked for the reasoning in the same request."""
        if isinstance(self.inline_reasoning, bool):
            return self.inline_reasoning
        return task in self.inline_reasoning

    @property
    def rater_config(self) -> TeacherConfig:
        return self.rater or self.teacher

    @property
    def output_dir(self) -> Path:
        return Path(self.output).expanduser()

    @property
    def work_dir(self) -> Path:
        """Intermediate files, datatrove logging dirs and the teacher's request log (never pushed)."""
        return self.output_dir / ".lm-mixup"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    # ------------------------------------------------------------------ loading
    @classmethod
    def from_dict(cls, data: dict[str, Any] | None, *, source: str | None = None) -> BuildConfig:
        """Build from a mapping (a parsed YAML file); unknown keys are errors naming the known ones."""
        data = dict(data or {})
        _check_keys(cls, data, source, "")
        kwargs: dict[str, Any] = dict(data)
        if "sources" in data:
            if not isinstance(data["sources"], list):
                raise ConfigError(
                    "expected a list of sources",
                    path=source,
                    field="sources",
                    fix="write '- path: FOLDER' items",
                )
            kwargs["sources"] = [_sub(SourceConfig, item, source, "sources") for item in data["sources"]]
        for name, sub in (("clusters", ClusterSizeConfig), ("executor", ExecutorConfig)):
            if name in data:
                kwargs[name] = _sub(sub, data[name], source, name)
        for name in ("teacher", "rater"):
            if data.get(name) is not None:
                try:
                    kwargs[name] = TeacherConfig.from_dict(data[name], source=source)
                except ConfigError as error:
                    raise _located(error, source) from None
        try:
            return cls(**kwargs)
        except ConfigError as error:
            raise _located(error, source) from None
        except TypeError as error:
            raise ConfigError(
                f"bad value ({error})", path=source, fix="check the types in the file"
            ) from error

    @classmethod
    def from_yaml(cls, path: str | os.PathLike[str]) -> BuildConfig:
        """Load a YAML build config (see ``configs/build_*.yaml``)."""
        import yaml

        path = Path(path)
        if not path.is_file():
            raise ConfigError("config file not found", path=str(path), fix="pass an existing YAML file")
        try:
            data = yaml.safe_load(path.read_text()) or {}
        except yaml.YAMLError as error:
            raise ConfigError(
                f"not valid YAML ({error})", path=str(path), fix="fix the YAML syntax"
            ) from error
        if not isinstance(data, dict):
            raise ConfigError(
                "expected a mapping at the top level", path=str(path), fix="write key: value pairs"
            )
        return cls.from_dict(data, source=str(path))

    @staticmethod
    def help() -> dict[str, str]:
        """Field name → help text, including nested sections (``clusters.mean``, …)."""
        out: dict[str, str] = {}
        for f in fields(BuildConfig):
            out[f.name] = f.metadata.get("help", "")
        for prefix, sub in (
            ("sources", SourceConfig),
            ("clusters", ClusterSizeConfig),
            ("executor", ExecutorConfig),
        ):
            for f in fields(sub):
                out[f"{prefix}.{f.name}"] = f.metadata.get("help", "")
        return out


def _located(error: ConfigError, source: str | None) -> ConfigError:
    """``error`` naming the file it came from."""
    if source and not error.path:
        error.path = source
        error.args = (error.render(),)
    return error


def _check_keys(cls: type, data: dict[str, Any], source: str | None, prefix: str) -> None:
    known = {f.name for f in fields(cls)}
    unknown = sorted(set(data) - known)
    if unknown:
        where = f"{prefix}." if prefix else ""
        raise ConfigError(
            f"unknown option(s) {', '.join(where + key for key in unknown)}",
            path=source,
            fix=f"known options{' of ' + prefix if prefix else ''}: {', '.join(sorted(known))}",
        )


def _sub(cls: type, data: Any, source: str | None, prefix: str) -> Any:
    assert is_dataclass(cls)
    if not isinstance(data, dict):
        raise ConfigError(
            f"expected a mapping, got {type(data).__name__}",
            path=source,
            field=prefix,
            fix="write key: value pairs",
        )
    _check_keys(cls, data, source, prefix)
    try:
        return cls(**data)
    except ConfigError as error:
        raise _located(error, source) from None
