"""``BuildConfig``: everything ``lm-mixup build`` needs — one dataclass for Python, the CLI and YAML.

A YAML file mirrors the dataclasses (``sources:`` a list, ``teacher:``/``rater:``/``clusters:``/``executor:``
mappings); unknown keys are errors that name the key and the known ones. ``BuildConfig()`` alone is the
embedded demo: the packaged demo corpus, the embedded SmolLM2 teacher, the local executor.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from mixture_builder.config_io import (
    field_help,
    from_mapping,
    located,
    read_yaml_mapping,
    reject_unknown_keys,
)
from mixture_builder.errors import ConfigError
from mixture_builder.generate.sections import (
    DEGRADATION_STYLES,
    DEMO_SOURCE,
    EXECUTORS,
    ClusterSizeConfig,
    ExecutorConfig,
    SourceConfig,
    demo_corpus_path,
)
from mixture_builder.mixture_format import TASKS
from mixture_builder.teacher.config import TeacherConfig

__all__ = [
    "DEGRADATION_STYLES",
    "DEMO_SOURCE",
    "EXECUTORS",
    "BuildConfig",
    "ClusterSizeConfig",
    "ExecutorConfig",
    "SourceConfig",
    "demo_corpus_path",
]


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
        from mixture_builder.generate.noise import NOISE_FUNCTIONS

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
        reject_unknown_keys(cls, data, source=source)
        kwargs: dict[str, Any] = dict(data)
        if "sources" in data:
            if not isinstance(data["sources"], list):
                raise ConfigError(
                    "expected a list of sources",
                    path=source,
                    field="sources",
                    fix="write '- path: FOLDER' items",
                )
            kwargs["sources"] = [
                from_mapping(SourceConfig, item, source=source, prefix="sources") for item in data["sources"]
            ]
        for name, sub in (("clusters", ClusterSizeConfig), ("executor", ExecutorConfig)):
            if name in data:
                kwargs[name] = from_mapping(sub, data[name], source=source, prefix=name)
        for name in ("teacher", "rater"):
            if data.get(name) is not None:
                kwargs[name] = TeacherConfig.from_dict(data[name], source=source)
        try:
            return cls(**kwargs)
        except ConfigError as error:
            raise located(error, source) from None
        except TypeError as error:
            raise ConfigError(
                f"bad value ({error})", path=source, fix="check the types in the file"
            ) from error

    @classmethod
    def from_yaml(cls, path: str | os.PathLike[str]) -> BuildConfig:
        """Load a YAML build config (see ``configs/build_*.yaml``)."""
        return cls.from_dict(read_yaml_mapping(path), source=str(path))

    @staticmethod
    def help() -> dict[str, str]:
        """Field name → help text, including nested sections (``clusters.mean``, …)."""
        out = field_help(BuildConfig)
        for prefix, sub in (
            ("sources", SourceConfig),
            ("clusters", ClusterSizeConfig),
            ("executor", ExecutorConfig),
        ):
            out.update(field_help(sub, prefix))
        return out
