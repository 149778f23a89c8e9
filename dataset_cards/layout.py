"""The on-disk layout of a dataset folder that ``datasets`` and the Hub understand.

A folder holds Parquet shards per config and split::

    data/{split}-00000-of-00001.parquet          # config "default"
    data_sft/train-00000-of-00002.parquet        # config "sft"
    data_grpo/test-00000-of-00001.parquet        # config "grpo"

and a ``README.md`` whose YAML ``configs`` block names them, so ``load_dataset(folder_or_repo, "sft")``
returns the ``train``/``test`` splits. Shards are cut by approximate in-memory (Arrow) size, as
``Dataset.push_to_hub`` does; rewriting a config replaces all of its previous shards.

The YAML block also carries ``dataset_info`` (features and per-split row and byte counts, read from the
shards' Parquet footers, as ``push_to_hub`` writes it) and, per config, a ``description`` naming the
SHA-256 of its shards. Both key the local ``datasets`` cache: for a folder with a ``configs`` block,
``datasets`` caches under the folder's base name, the config name and a hash of the README's metadata only
(the globs, not the files they match), so without them a rewritten folder, or another folder with the same
base name, would be served from the stale cache.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dataset_cards.folder_yaml import update_readme_configs
from dataset_cards.shards import check_name, config_dir_name, shard_name
from mixture_builder.errors import ConfigError

if TYPE_CHECKING:
    import datasets
    import pyarrow as pa

    SplitData = Sequence[Mapping[str, Any]] | pa.Table | datasets.Dataset
else:
    SplitData = Any

DEFAULT_SHARD_SIZE_BYTES = 256 * 2**20
"""Default maximum (approximate, Arrow in-memory) size of one Parquet shard."""

ROW_GROUP_SIZE = 1000
"""Rows per Parquet row group (the ``datasets`` default batch size; keeps streaming reads small)."""

logger = logging.getLogger(__name__)


def write_dataset_folder(
    out_dir: str | Path,
    tables: Mapping[str, Mapping[str, SplitData]],
    shard_size_bytes: int = DEFAULT_SHARD_SIZE_BYTES,
    *,
    default_config: str | None = None,
    update_readme: bool = True,
) -> list[Path]:
    """Write ``tables`` (``{config: {split: rows | pyarrow.Table | datasets.Dataset}}``) as Parquet shards.

    Each config's previous shards are removed first, so a rewrite leaves no stale files. Splits of one
    config share one schema (columns missing from a split are null); an empty split gets no shard (a
    warning is logged) and so no ``data_files`` entry. With ``update_readme``, the ``configs``
    block of ``out_dir/README.md`` is (re)written from the folder's shards, so the folder loads with
    ``datasets.load_dataset(out_dir, config)`` at once; the rest of an existing card is kept.
    Returns the written shard paths.
    """
    if shard_size_bytes <= 0:
        raise ConfigError(
            f"shard_size_bytes must be positive, got {shard_size_bytes}", field="shard_size_bytes"
        )
    out = Path(out_dir)
    written: list[Path] = []
    for config, splits in tables.items():
        check_name(config, "config")
        for split in splits:
            check_name(split, "split")
        arrow_splits = _to_arrow(splits)
        config_dir = out / config_dir_name(config)
        config_dir.mkdir(parents=True, exist_ok=True)
        for stale in config_dir.glob("*.parquet*"):
            stale.unlink()
        for split, table in arrow_splits.items():
            if table.num_rows == 0:  # `datasets` cannot read a shard without rows; the split is left out
                logger.warning("config %r split %r has no rows; no shard written", config, split)
                continue
            written.extend(_write_split(config_dir, split, table, shard_size_bytes))
    if update_readme:
        update_readme_configs(out, default_config=default_config)
    return written


def _to_arrow(splits: Mapping[str, SplitData]) -> dict[str, pa.Table]:
    """Convert every split to a ``pyarrow.Table`` with one schema shared by the config's splits."""
    import pyarrow as pa

    tables: dict[str, pa.Table] = {}
    for split, data in splits.items():
        if isinstance(data, pa.Table):
            tables[split] = data
        elif hasattr(data, "flatten_indices") and hasattr(data, "data"):  # datasets.Dataset
            tables[split] = data.flatten_indices().data.table
        else:
            rows = list(data)
            bad = next((i for i, row in enumerate(rows) if not isinstance(row, Mapping)), None)
            if bad is not None:
                raise ConfigError(
                    f"split {split!r} record {bad} is a {type(rows[bad]).__name__}, not a dict",
                    field=split,
                    fix="pass a list of dicts, a pyarrow.Table or a datasets.Dataset",
                )
            tables[split] = pa.Table.from_pylist(rows)
    non_empty = [t.schema for t in tables.values() if t.num_columns]
    if not non_empty:
        return tables
    try:
        schema = pa.unify_schemas(non_empty, promote_options="permissive")
    except (pa.ArrowInvalid, pa.ArrowTypeError) as error:
        raise ConfigError(f"the splits of one config have incompatible columns: {error}") from error
    return {split: _conform(table, schema) for split, table in tables.items()}


def _conform(table: pa.Table, schema: pa.Schema) -> pa.Table:
    import pyarrow as pa

    columns = [
        table.column(f.name).cast(f.type)
        if f.name in table.column_names
        else pa.nulls(table.num_rows, f.type)
        for f in schema
    ]
    return pa.Table.from_arrays(columns, schema=schema)


def _write_split(config_dir: Path, split: str, table: pa.Table, shard_size_bytes: int) -> list[Path]:
    """Cut ``table`` into contiguous shards of about ``shard_size_bytes`` and write them atomically."""
    import pyarrow.parquet as pq

    n_shards = max(1, min(table.num_rows, math.ceil(table.nbytes / shard_size_bytes)))
    bounds = [round(i * table.num_rows / n_shards) for i in range(n_shards + 1)]
    paths: list[Path] = []
    for index in range(n_shards):
        shard = table.slice(bounds[index], bounds[index + 1] - bounds[index])
        path = config_dir / shard_name(split, index, n_shards)
        tmp = path.with_suffix(".parquet.tmp")
        pq.write_table(shard, tmp, row_group_size=ROW_GROUP_SIZE)
        tmp.replace(path)
        paths.append(path)
    return paths
