"""``BuildConfig``: everything ``lm-mixup build`` needs — one dataclass for Python, the CLI and YAML.

A YAML file mirrors the dataclasses (``sources:`` a list, ``teacher:``/``rater:``/``clusters:``/``executor:``
mappings); unknown keys are errors that name the key and the known ones. ``BuildConfig()`` alone is the
embedded demo: the packaged demo corpus, the embedded SmolLM2 teacher, the local executor.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from mixture_builder.config_io import build_config, field_help, help_field, load_config
from mixture_builder.errors import ConfigError
from mixture_builder.generate.noise import NOISE_FUNCTIONS
from mixture_builder.generate.sections import (
    DEGRADATION_STYLES,
    DEMO_SOURCE,
    EXECUTORS,
    ClusterSizeConfig,
    ExecutorConfig,
    SourceConfig,
    demo_corpus_path,
)
from mixture_builder.input_fingerprint import CONTENT_HASH_CHOICES, CONTENT_HASH_HELP
from mixture_builder.mixture_format import TASKS
from mixture_builder.teacher.config import TeacherConfig

__all__ = [
    "DEGRADATION_STYLES",
    "DEMO_SOURCE",
    "EXECUTORS",
    "STAGES",
    "BuildConfig",
    "ClusterSizeConfig",
    "ExecutorConfig",
    "SourceConfig",
    "demo_corpus_path",
]


STAGES: tuple[str, ...] = ("samples", "assemble", "publish", "push")
"""The stages of a build, in order (``executor.stages`` keys name them)."""


def _bad(name: str, problem: str, fix: str) -> ConfigError:
    return ConfigError(problem, field=name, fix=fix)


@dataclass
class BuildConfig:
    """A MIXTURE build: sources → teacher samples → rating → low-quality variants → clusters → splits."""

    output: str = help_field(
        "Output folder (Parquet shards, stats.json, README.md; intermediates in .lm-mixup/).",
        default="mixture-output",
    )
    sources: list[SourceConfig] = help_field(
        "Where the passages come from.",
        default_factory=lambda: [SourceConfig()],
    )
    on_error: str = help_field(
        "Bad input records: 'raise' (stop with a clear error) or 'skip' (count and go on).",
        default="raise",
    )
    segment_max_tokens: int = help_field(
        "Split longer passages into segments of about this many tokens.",
        default=384,
    )
    segment_min_tokens: int = help_field(
        "Drop segments shorter than this many tokens (headings, stray lines).",
        default=30,
    )
    segments_per_document: int = help_field(
        "Use at most this many segments of each document (-1: all).",
        default=-1,
    )
    tasks: list[str] = help_field(
        "Task types written per passage (the paper: all five).",
        default_factory=lambda: list(TASKS),
    )
    tasks_per_passage: int | None = help_field(
        "Task mix: write only this many of `tasks` per passage, rotating with the passage (None: all).",
        default=None,
    )
    task_weights: dict[str, float] | None = help_field(
        "Task mix with tasks_per_passage: relative weight of each task when choosing a passage's tasks "
        "(None: equal; e.g. favour a task the teacher often fails).",
        default=None,
    )
    keep_unrated: bool = help_field(
        "Keep targets the rater could not score (their quality is recorded as 0).",
        default=False,
    )
    inline_reasoning: bool | list[str] = help_field(
        "Ask for the chain of thought in the same request as the sample (one call): true for every task, "
        "or a list of tasks. Other tasks get the sample alone, then its reasoning in a second request "
        "(shorter replies, which small models follow more reliably).",
        default=True,
    )
    repair_replies: bool = help_field(
        "Ask the teacher once more, with the parse error, when a written sample does not parse.",
        default=True,
    )
    teacher: TeacherConfig = help_field(
        "The LLM writing and degrading samples.",
        default_factory=TeacherConfig,
    )
    rater: TeacherConfig | None = help_field("The LLM rating samples (None: the teacher).", default=None)
    quality_threshold: int = help_field(
        "Keep targets rated >= this (0-5 compressed score; the paper: 4).",
        default=4,
    )
    teacher_variants: int = help_field("Low-quality variants the teacher writes per target.", default=2)
    degradation_styles: list[str] = help_field(
        f"Styles the teacher variants cycle through: {', '.join(DEGRADATION_STYLES)}.",
        default_factory=lambda: list(DEGRADATION_STYLES),
    )
    noise_variants: int = help_field("Low-quality variants made by noise functions per target.", default=4)
    noise_functions: list[str] = help_field(
        "Noise functions to draw from (typos, repetition, truncation, shuffled_sentences, filler).",
        default_factory=lambda: ["typos", "repetition", "truncation", "shuffled_sentences", "filler"],
    )
    noise_max_ops: int = help_field("Most noise functions applied to one variant.", default=2)
    clusters: ClusterSizeConfig = help_field("Cluster-size distribution.", default_factory=ClusterSizeConfig)
    cross_topic: bool = help_field(
        "Merge variants of semantically similar targets (other passages) into clusters.",
        default=True,
    )
    cross_topic_neighbours: int = help_field(
        "Nearest same-task targets whose variants may join a cluster.",
        default=3,
    )
    cross_topic_min_similarity: float = help_field(
        "Cosine similarity a neighbour target needs to contribute.",
        default=0.3,
    )
    embedding_model: str | None = help_field(
        "sentence-transformers model for embeddings (None: offline MiniLM).",
        default=None,
    )
    sft_fraction: float = help_field(
        "Share of targets in the SFT config; the rest go to GRPO (the paper: 0.3).",
        default=0.3,
    )
    test_fraction: float = help_field(
        "Share of each config's targets in its test split (the paper: 0.1).",
        default=0.1,
    )
    seed: int = help_field("Seed of splits, cluster sizes and noise (the paper: 42).", default=42)
    shard_size_bytes: int = help_field("Largest Parquet shard.", default=256 * 2**20)
    executor: ExecutorConfig = help_field("Executor settings.", default_factory=ExecutorConfig)
    push_to: str | None = help_field(
        "Hub dataset repo to publish to after the build (None: no push).",
        default=None,
    )
    private: bool = help_field("Create the Hub repo private.", default=False)
    dataset_name: str = help_field("Pretty name of the dataset in its card.", default="MIXTURE")
    input_hash: str = help_field(CONTENT_HASH_HELP, default="auto")

    def __post_init__(self) -> None:
        if self.on_error not in ("raise", "skip"):
            raise _bad("on_error", f"unknown value {self.on_error!r}", "use 'raise' or 'skip'")
        if self.input_hash not in CONTENT_HASH_CHOICES:
            raise _bad("input_hash", f"unknown value {self.input_hash!r}",
                       f"use one of {', '.join(CONTENT_HASH_CHOICES)}")
        if not self.sources:
            raise _bad("sources", "no sources", "list at least one source folder or file")
        self.executor.check_stage_names(STAGES)
        self._check_tasks()
        self._check_variants()
        self._check_ranges()

    def _check_tasks(self) -> None:
        unknown = [task for task in self.tasks if task not in TASKS]
        if unknown or not self.tasks:
            raise _bad("tasks", f"unknown or empty task list {self.tasks}", f"use some of {', '.join(TASKS)}")
        if self.tasks_per_passage is not None and self.tasks_per_passage < 1:
            raise _bad("tasks_per_passage", f"must be >= 1 or null, got {self.tasks_per_passage}",
                       "use null for every task")
        if self.task_weights is not None:
            bad_tasks = [t for t in self.task_weights if t not in self.tasks]
            if bad_tasks or any(w <= 0 for w in self.task_weights.values()):
                raise _bad("task_weights", f"weights need tasks from `tasks` and values > 0, got {self.task_weights}",
                           "e.g. {mcq: 3.0}; unlisted tasks weigh 1")
        if not isinstance(self.inline_reasoning, bool) and any(t not in TASKS for t in self.inline_reasoning):
            raise _bad("inline_reasoning", f"unknown task in {self.inline_reasoning}",
                       f"use true, false or a list of {', '.join(TASKS)}")

    def _check_variants(self) -> None:
        bad_styles = [style for style in self.degradation_styles if style not in DEGRADATION_STYLES]
        if bad_styles or (self.teacher_variants and not self.degradation_styles):
            raise _bad("degradation_styles", f"unknown styles {bad_styles or self.degradation_styles}",
                       f"use some of {', '.join(DEGRADATION_STYLES)}")
        bad_noise = [name for name in self.noise_functions if name not in NOISE_FUNCTIONS]
        if bad_noise or (self.noise_variants and not self.noise_functions):
            raise _bad("noise_functions", f"unknown noise functions {bad_noise or self.noise_functions}",
                       f"use some of {', '.join(NOISE_FUNCTIONS)}")
        for name in ("teacher_variants", "noise_variants", "cross_topic_neighbours"):
            if getattr(self, name) < 0:
                raise _bad(name, f"must be >= 0, got {getattr(self, name)}", "use 0 or more")
        if self.teacher_variants + self.noise_variants < 1:
            raise _bad("noise_variants", "no low-quality variants would be made",
                       "set teacher_variants or noise_variants to 1 or more")
        if self.noise_max_ops < 1:
            raise _bad("noise_max_ops", f"must be >= 1, got {self.noise_max_ops}", "use 1 or more")

    def _check_ranges(self) -> None:
        if self.segments_per_document == 0 or self.segments_per_document < -1:
            raise _bad("segments_per_document", f"must be -1 or > 0, got {self.segments_per_document}",
                       "use -1 for all segments")
        if self.segment_max_tokens < 16:
            raise _bad("segment_max_tokens", f"must be >= 16, got {self.segment_max_tokens}", "use a larger value")
        if not 0 <= self.quality_threshold <= 5:
            raise _bad("quality_threshold", f"must be in 0..5, got {self.quality_threshold}", "use 0-5 (paper: 4)")
        if not 0 < self.sft_fraction < 1 or not 0 <= self.test_fraction < 1:
            raise _bad("sft_fraction", f"need 0 < sft_fraction < 1 and 0 <= test_fraction < 1, got "
                       f"{self.sft_fraction}, {self.test_fraction}", "paper: 0.3 and 0.1")
        if not -1 <= self.cross_topic_min_similarity <= 1:
            raise _bad("cross_topic_min_similarity", "must be in [-1, 1]", "use a cosine similarity")

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
        return build_config(cls, data or {}, source=source)

    @classmethod
    def from_yaml(cls, path: str | os.PathLike[str]) -> BuildConfig:
        """Load a YAML build config (see ``configs/build_*.yaml``)."""
        return load_config(cls, path)

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
