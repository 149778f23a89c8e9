"""Statistics of a dataset folder, read from its Parquet shards (one column at a time, shard by shard).

Every column is optional: counts per config and split always exist; per-task counts need ``task_type``;
the quality distribution needs ``quality``; cluster sizes come from ``cluster_size``, else ``len(inputs)``,
else ``len(source_ids)``; licenses from ``license`` / ``licenses``; sources from ``source`` / ``sources``.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dataset_cards.licenses import split_license_counts
from dataset_cards.shards import parquet_files

CLUSTER_COLUMNS: tuple[str, ...] = ("cluster_size", "inputs", "source_ids")
"""Columns a cluster size is read from, in order of preference."""

BATCH_ROWS = 65_536
"""Rows decoded at a time when counting a column."""


@dataclass
class FolderStats:
    """What a card reports about the rows actually written."""

    rows: dict[str, dict[str, int]] = field(default_factory=dict)
    """config → split → number of rows."""
    task_types: dict[str, dict[str, Counter[str]]] = field(default_factory=dict)
    """config → split → task_type → rows."""
    quality: dict[str, Counter[Any]] = field(default_factory=dict)
    """config → quality score → rows."""
    cluster_sizes: dict[str, Counter[int]] = field(default_factory=dict)
    """config → cluster size (inputs per record) → rows."""
    cluster_column: str | None = None
    licenses: Counter[str] = field(default_factory=Counter)
    """raw license name → rows carrying it (a record mixing sources counts once per license)."""
    sources: Counter[str] = field(default_factory=Counter)
    teachers: Counter[str] = field(default_factory=Counter)
    columns: dict[str, str] = field(default_factory=dict)
    """column name → Arrow type, in schema order."""

    @property
    def total_rows(self) -> int:
        return sum(n for splits in self.rows.values() for n in splits.values())

    @property
    def configs(self) -> list[str]:
        return list(self.rows)


def read_folder_stats(out_dir: str | Path) -> FolderStats:
    """Scan every shard of every config in ``out_dir`` (see :func:`dataset_cards.layout.parquet_files`),
    counting with Arrow compute in bounded batches, so memory stays flat whatever the dataset size."""
    import pyarrow.parquet as pq

    stats = FolderStats()
    for config, splits in parquet_files(out_dir).items():
        stats.rows[config] = {}
        stats.task_types[config] = {}
        quality: Counter[Any] = Counter()
        sizes: Counter[int] = Counter()
        for split, paths in splits.items():
            tasks: Counter[str] = Counter()
            n_rows = 0
            for path in paths:
                parquet = pq.ParquetFile(path)
                schema = parquet.schema_arrow
                for name in schema.names:
                    stats.columns.setdefault(name, str(schema.field(name).type))
                n_rows += parquet.metadata.num_rows
                if "task_type" in schema.names:
                    tasks.update({_label(k): n for k, n in value_counts(parquet, "task_type").items()})
                if "quality" in schema.names:
                    quality.update({_score(k): n for k, n in value_counts(parquet, "quality").items()})
                cluster = next((name for name in CLUSTER_COLUMNS if name in schema.names), None)
                if cluster is not None:
                    stats.cluster_column = stats.cluster_column or cluster
                    counts = value_counts(parquet, cluster, list_lengths=True)
                    sizes.update({int(k): n for k, n in counts.items() if k is not None})
                if license_column := next((c for c in ("license", "licenses") if c in schema.names), None):
                    stats.licenses.update(split_license_counts(value_counts(parquet, license_column)))
                if source_column := next((c for c in ("source", "sources") if c in schema.names), None):
                    stats.sources.update(
                        {_label(k): n for k, n in value_counts(parquet, source_column).items()}
                    )
                if "teacher" in schema.names:
                    stats.teachers.update({_label(k): n for k, n in value_counts(parquet, "teacher").items()})
            stats.rows[config][split] = n_rows
            if tasks:
                stats.task_types[config][split] = tasks
        if quality:
            stats.quality[config] = quality
        if sizes:
            stats.cluster_sizes[config] = sizes
    return stats


def value_counts(parquet: Any, column: str, *, list_lengths: bool = False) -> Counter[Any]:
    """Distinct values of one column of a ``pyarrow.parquet.ParquetFile`` → rows (``None`` for nulls).

    List columns count their items (flattened), or with ``list_lengths`` the length of each list.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    counts: Counter[Any] = Counter()
    for batch in parquet.iter_batches(batch_size=BATCH_ROWS, columns=[column]):
        array = batch.column(0)
        if pa.types.is_list(array.type) or pa.types.is_large_list(array.type):
            array = pc.list_value_length(array) if list_lengths else pc.list_flatten(array)
        for entry in pc.value_counts(array).to_pylist():
            counts[entry["values"]] += entry["counts"]
    return counts


def _label(value: Any) -> str:
    return "(missing)" if value is None else str(value)


def _score(value: Any) -> Any:
    if value is None:
        return "(missing)"
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return round(value, 2) if isinstance(value, float) else value
