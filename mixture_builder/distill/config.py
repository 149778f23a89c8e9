"""``DistillConfig``: one dataclass tree for Python, the CLI and YAML (``lm-mixup distill --config FILE``).

Every field has help text (``field(metadata={"help": ...})``); values are checked in ``__post_init__`` and a
YAML file with an unknown key fails with the key's path and the known keys. The defaults are the embedded
demo: the packaged pool, SmolLM2 on CPU as rater and distiller, offline.
"""

from __future__ import annotations

import dataclasses
import os
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, ClassVar

from mixture_builder.clustering.capacity import CapacityConfig
from mixture_builder.config_io import build_config, help_field, load_config
from mixture_builder.errors import ConfigError
from mixture_builder.generate.sections import ExecutorConfig
from mixture_builder.input_fingerprint import CONTENT_HASH_CHOICES, CONTENT_HASH_HELP
from mixture_builder.teacher.config import TeacherConfig

ON_ERROR = ("raise", "skip")
ENGINES = ("transformers", "vllm")


def demo_pool_path() -> Path:
    """The packaged demo pool: instruction samples written for this project, redundant and flawed on purpose,
    in three sources (``general``, ``howto``, ``code``: one folder each, with a ``SOURCE.md``)."""
    return Path(str(resources.files("mixture_builder.distill") / "demo"))


EMBEDDING_DEVICE = re.compile(r"cpu|cuda(:\d+)?|mps|auto")
"""Devices ``clustering.embedding_device`` accepts."""
STAGES: tuple[str, ...] = (
    "decont_index", "ingest", "exact_1_signatures", "exact_2_links", "near_1_signatures", "near_2_buckets",
    "near_3_clusters", "score", "embed", "cluster", "distill", "rerate", "assemble",
)
"""The stages of a run, in order (each one datatrove executor; ``executor.stages`` keys name them)."""


def _bad(name: str, problem: str, fix: str) -> ConfigError:
    return ConfigError(problem, field=name, fix=fix)


@dataclass
class PoolConfig:
    """One instruction pool to read (in YAML, a plain string is the path)."""

    shorthand_field: ClassVar[str] = "path"
    path: str = help_field("File or folder of instruction samples (any format the readers know).")
    format: str = help_field("Reader format, or 'auto' to pick by file name/content.", default="auto")
    source: str | None = help_field(
        "Source name recorded on every record (default: what the reader infers).", default=None
    )
    license: str | None = help_field(
        "License recorded on every record (default: what the reader infers).", default=None
    )
    limit: int | None = help_field("Read at most this many records (None: all).", default=None)
    glob_pattern: str | None = help_field(
        "Which files of a folder to read (None: every data file; README/SOURCE.md "
        "and hidden files are skipped).",
        default=None,
    )

    def __post_init__(self) -> None:
        if not self.path:
            raise _bad("path", "a pool needs a path", "give a file or folder of instruction samples")
        if self.limit is not None and self.limit < 1:
            raise _bad("limit", f"must be >= 1 or null, got {self.limit}", "use a positive integer")


@dataclass
class DedupConfig:
    """Duplicate removal before scoring."""

    exact: bool = help_field("Drop exact duplicates (same normalised text).", default=True)
    near: bool = help_field("Drop near-duplicates with MinHash (datatrove).", default=True)


@dataclass
class ScoringConfig:
    """Where the 0–5 quality scores come from and what counts as high quality."""

    score_column: str | None = help_field(
        "Record field holding an existing 0–5 quality score (looked up in the record and its "
        "quality_signals); records without one are rated by the LLM rater when rate_missing is on.",
        default="quality",
    )
    scores_file: str | None = help_field(
        "JSONL or CSV file with existing scores: columns 'id' (record id or source id) and score_column.",
        default=None,
    )
    rate_missing: bool = help_field(
        "Rate records that have no existing score with the LLM rater.", default=True
    )
    threshold: int = help_field("Score at or above which a record is high quality (the paper: 4).", default=4)
    rater: TeacherConfig = help_field(
        "The LLM rater (teacher layer settings).", default_factory=TeacherConfig
    )

    def __post_init__(self) -> None:
        if not 0 <= self.threshold <= 5:
            raise _bad("threshold", f"must be within 0–5, got {self.threshold}", "use e.g. 4")


@dataclass
class ClusteringConfig:
    """Capacity-constrained clustering of the low-quality records (per source)."""

    capacity: CapacityConfig = help_field(
        "Cluster sizes: min_size, max_size, mean, std, seed (paper: 2, 25, 10, 3).",
        default_factory=CapacityConfig,
    )
    per_source: bool = help_field(
        "Cluster each source separately (the paper) instead of the whole pool.", default=True
    )
    embedding_model: str | None = help_field(
        "sentence-transformers model (path or id) to embed prompt+answer; None: the offline MiniLM.",
        default=None,
    )
    embedding_batch_size: int = help_field(
        "Texts per embedding batch. On CPU small batches are faster (16: ~1.5x the throughput of 64 with "
        "MiniLM on a 2-core machine); on a GPU use 64 or more.",
        default=16,
    )

    embedding_device: str = help_field(
        "Device of the embedding model: 'cpu', 'cuda', 'cuda:N', 'mps' or 'auto' (a GPU when the task has one).",
        default="cpu",
    )

    def __post_init__(self) -> None:
        if not EMBEDDING_DEVICE.fullmatch(self.embedding_device):
            raise _bad("embedding_device", f"unknown device {self.embedding_device!r}",
                       "use cpu, cuda, cuda:N, mps or auto")
        if self.embedding_batch_size < 1:
            raise _bad("embedding_batch_size", f"must be >= 1, got {self.embedding_batch_size}",
                       "use e.g. 16 (CPU) or 64 (GPU)")


@dataclass
class DistillerConfig:
    """The model that writes one sample per cluster: a teacher-layer LLM or a local/Hub checkpoint."""

    checkpoint: str | None = help_field(
        "Local checkpoint folder or Hub model id (e.g. from `lm-mixup train`); when set, it is run with "
        "`engine` instead of the teacher.",
        default=None,
    )
    engine: str = help_field(
        "Engine of a checkpoint: 'transformers' (CPU/GPU) or 'vllm' (GPU, optional extra).",
        default="transformers",
    )
    teacher: TeacherConfig = help_field(
        "Teacher-layer LLM used when no checkpoint is set.", default_factory=TeacherConfig
    )
    max_new_tokens: int = help_field("Most tokens written per cluster.", default=512)
    temperature: float = help_field("Sampling temperature of a checkpoint (0: greedy).", default=0.0)
    batch_size: int = help_field("Clusters per generation batch of a checkpoint.", default=4)
    guided: bool = help_field(
        "Format-guided generation: the completion is forced into <think>…</think>\\n\\n<answer>Q: … A: …"
        "</answer> (checkpoints: a transformers logits processor or vLLM structured outputs; teachers: as "
        "teacher.guided resolves, i.e. the embedded model and vLLM, or endpoints set to 'vllm'/'sglang'). "
        "False: raw generation (strict evaluation of a trained checkpoint).",
        default=True,
    )
    think_budget: int = help_field(
        "Guided generation: most tokens of <think> reasoning before </think> is forced.", default=128
    )
    strict_format: bool | None = help_field(
        "Require exactly <think>…</think><answer>…</answer> (the LM-Mixup format); False accepts one "
        "<answer>…</answer> anywhere. None: strict for checkpoints, lenient for teachers.",
        default=None,
    )

    def __post_init__(self) -> None:
        if self.engine not in ENGINES:
            raise _bad("engine", f"unknown engine {self.engine!r}", f"use one of {', '.join(ENGINES)}"
            )
        for name in ("max_new_tokens", "batch_size", "think_budget"):
            if getattr(self, name) < 1:
                raise _bad(name, f"must be >= 1, got {getattr(self, name)}", "use a positive integer"
                )
        if self.temperature < 0:
            raise _bad("temperature", f"must be >= 0, got {self.temperature}", "use 0 for greedy"
            )

    @property
    def strict(self) -> bool:
        """Whether completions must follow the LM-Mixup format exactly."""
        return bool(self.checkpoint) if self.strict_format is None else self.strict_format

    @property
    def guidance(self) -> str:
        """How completions are guided: 'off' (raw), 'local' (transformers logits processor), 'vllm' or
        'sglang' (structured outputs); recorded in the distiller's provenance."""
        if not self.guided:
            return "off"
        if self.checkpoint:
            return "vllm" if self.engine == "vllm" else "local"
        return self.teacher.resolved_guided

    @property
    def model_id(self) -> str:
        """The distiller's name in provenance."""
        return self.checkpoint if self.checkpoint else self.teacher.model_id


@dataclass
class MergeConfig:
    """How many distilled samples join the original high-quality ones.

    ``top_n`` caps the distilled samples; ``ratio`` is the distilled share of the result (0.5: as many
    distilled as originals); ``size`` caps the whole result (split by ``ratio``, default 0.5). Both sides
    are taken best first (quality, then long-tail score).
    """

    top_n: int | None = help_field(
        "Keep at most this many distilled samples (None: all that pass re-rating).", default=None
    )
    ratio: float | None = help_field(
        "Distilled share of the merged set, in (0, 1] (None: no balancing).", default=None
    )
    size: int | None = help_field("Total size of the merged set (None: everything selected).", default=None)
    rerate: bool = help_field(
        "Re-rate the distilled samples with the rater and keep >= scoring.threshold.", default=True
    )
    long_tail_k: int = help_field("Neighbours of the long-tail score (mean cosine distance).", default=15)

    def __post_init__(self) -> None:
        for name in ("top_n", "size"):
            value = getattr(self, name)
            if value is not None and value < 0:
                raise _bad(name, f"must be >= 0 or null, got {value}", "use a non-negative integer")
        if self.ratio is not None and not 0 < self.ratio <= 1:
            raise _bad("ratio", f"must be within (0, 1], got {self.ratio}", "e.g. 0.5")
        if self.long_tail_k < 1:
            raise _bad("long_tail_k", f"must be >= 1, got {self.long_tail_k}", "e.g. 15")


@dataclass
class DecontConfig:
    """Optional n-gram decontamination against benchmark test sets (datatrove's NGramsDecontFilter)."""

    test_sets: list[str] = help_field(
        "Benchmark files (JSON/JSONL/CSV/Parquet, any reader format); records with an n-gram of their "
        "question/answer are dropped. Empty: off.",
        default_factory=list,
    )
    n_grams: int = help_field("n-gram length (datatrove's default: 12).", default=12)
    find_query_ngrams: bool = help_field("Also match n-grams of the benchmark questions alone.", default=True)

    def __post_init__(self) -> None:
        if self.n_grams < 2:
            raise _bad("n_grams", f"must be >= 2, got {self.n_grams}", "e.g. 12")


@dataclass
class DistillConfig:
    """A whole `lm-mixup distill` run."""

    pools: list[PoolConfig] = help_field(
        "Instruction pools to read (default: the packaged demo pool).",
        default_factory=lambda: [PoolConfig(path=str(demo_pool_path()))],
    )
    output: str = help_field(
        "Output folder (Parquet shards, README.md card, stats.json, report.html).", default="distilled"
    )
    on_error: str = help_field(
        "Bad input records: 'raise' (stop with the location) or 'skip' (count per reason).", default="raise"
    )
    dedup: DedupConfig = help_field("Duplicate removal.", default_factory=DedupConfig)
    scoring: ScoringConfig = help_field(
        "Quality scores and the high/low split.", default_factory=ScoringConfig
    )
    clustering: ClusteringConfig = help_field(
        "Clustering of the low-quality records.", default_factory=ClusteringConfig
    )
    distiller: DistillerConfig = help_field("The distilling model.", default_factory=DistillerConfig)
    merge: MergeConfig = help_field("Re-rating, ranking and merging.", default_factory=MergeConfig)
    decontamination: DecontConfig = help_field("Benchmark decontamination.", default_factory=DecontConfig)
    report: bool = help_field("Also write report.html (each cluster beside its distillation).", default=False)
    push_to: str | None = help_field(
        "Hub dataset repo id to push the result to (None: no push).", default=None
    )
    private: bool = help_field("Create the pushed repo as private.", default=False)
    pretty_name: str = help_field("Dataset name on the card.", default="LM-Mixup distilled instruction data")
    executor: ExecutorConfig = help_field(
        "datatrove executor (local, slurm or ray) and its tasks: ingest, dedup signatures, scoring, embedding, "
        "distillation and re-rating run as `tasks` shards; the output does not depend on their number.",
        default_factory=ExecutorConfig,
    )
    input_hash: str = help_field(CONTENT_HASH_HELP, default="auto")

    def __post_init__(self) -> None:
        if self.input_hash not in CONTENT_HASH_CHOICES:
            raise _bad("input_hash", f"unknown value {self.input_hash!r}", f"use one of {', '.join(CONTENT_HASH_CHOICES)}")
        if self.on_error not in ON_ERROR:
            raise _bad("on_error", f"unknown value {self.on_error!r}", "use 'raise' or 'skip'")
        if not self.pools:
            raise _bad("pools", "no pools given", "list at least one pool with a path")
        self.executor.check_stage_names(STAGES)

    @property
    def work_dir(self) -> Path:
        """Intermediate files of the run (never pushed)."""
        return Path(self.output) / ".lm-mixup"

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None, *, source: str | None = None) -> DistillConfig:
        """Build from a mapping (a YAML file's content); unknown keys are errors naming their path."""
        return build_config(cls, data or {}, source=source)

    @classmethod
    def from_yaml(cls, path: str | os.PathLike[str]) -> DistillConfig:
        """Load a YAML file; relative pool/score/test-set paths are resolved against the file's folder."""
        path = Path(path)
        config = load_config(cls, path)
        config.resolve_paths(path.parent)
        return config

    def resolve_paths(self, base: str | os.PathLike[str]) -> None:
        """Resolve relative pool/score/test-set paths against ``base`` (a config file's folder) when they
        exist there."""
        base = Path(base)
        for pool in self.pools:
            pool.path = _resolve(pool.path, base)
        if self.scoring.scores_file:
            self.scoring.scores_file = _resolve(self.scoring.scores_file, base)
        self.decontamination.test_sets = [_resolve(p, base) for p in self.decontamination.test_sets]


def _resolve(value: str, base: Path) -> str:
    path = Path(os.path.expanduser(value))
    return str(path if path.is_absolute() or not (base / path).exists() else base / path)


def demo_config() -> DistillConfig:
    """The embedded default of ``lm-mixup distill`` without ``--config`` (``configs/distill_demo.yaml``): the
    packaged pool, SmolLM2-135M on CPU as rater and distiller, offline. The pool holds topics of 2–4 related
    samples, so clusters are small (mean 4) and completions short, to finish in minutes on a laptop CPU."""
    return DistillConfig(
        output="distilled",
        clustering=ClusteringConfig(capacity=CapacityConfig(min_size=2, max_size=8, mean=4.0, std=1.0)),
        distiller=DistillerConfig(max_new_tokens=124, think_budget=30),  # measured: see configs/distill_demo.yaml
        merge=MergeConfig(rerate=False),  # the 135M rater scores every row 0 here: see configs/distill_demo.yaml
    )
