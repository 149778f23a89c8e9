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

import hashlib
import logging
import math
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

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

_NAME_RE = re.compile(r"^\w+(\.\w+)*$")  # datasets' own rule for split names; used for configs too
_SHARD_RE = re.compile(r"^(?P<split>\w+(?:\.\w+)*)-(?P<index>\d{5})-of-(?P<total>\d{5})\.parquet$")


def config_dir_name(config: str) -> str:
    """Folder of a config's shards: ``"default"`` → ``data``, ``"sft"`` → ``data_sft``."""
    return "data" if config == "default" else f"data_{config}"


def shard_name(split: str, index: int, total: int) -> str:
    """``train``, 0, 2 → ``train-00000-of-00002.parquet``."""
    return f"{split}-{index:05d}-of-{total:05d}.parquet"


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
        _check_name(config, "config")
        for split in splits:
            _check_name(split, "split")
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


def folder_configs(out_dir: str | Path, default_config: str | None = None) -> list[dict[str, Any]]:
    """The card's YAML ``configs`` entries for the shards in ``out_dir``.

    One entry per config folder (``data/`` → ``default``, ``data_X/`` → ``X``), with ``data_files`` as
    ``[{split, path}]`` globs. ``default: true`` marks ``default_config`` when given, else ``default``,
    else the config marked default in an existing ``README.md``, else the first config by name.
    """
    out = Path(out_dir)
    found: dict[str, list[str]] = {}
    for sub in sorted(p for p in out.iterdir() if p.is_dir()) if out.is_dir() else []:
        if sub.name == "data":
            config = "default"
        elif sub.name.startswith("data_"):
            config = sub.name[len("data_") :]
        else:
            continue
        splits = sorted({m["split"] for f in sub.glob("*.parquet") if (m := _SHARD_RE.match(f.name))})
        if splits:
            found[config] = _order_splits(splits)
    if not found:
        return []
    default = (
        default_config or ("default" if "default" in found else _readme_default(out)) or next(iter(found))
    )
    if default not in found:
        raise ConfigError(
            f"default config {default!r} has no shards in {out}",
            field="default_config",
            fix=f"use one of {', '.join(found)}",
        )
    ordered = [default] + [c for c in found if c != default]
    entries: list[dict[str, Any]] = []
    for config in ordered:
        entry: dict[str, Any] = {"config_name": config}
        entry["data_files"] = [
            {"split": split, "path": f"{config_dir_name(config)}/{split}-*"} for split in found[config]
        ]
        if config == default:
            entry["default"] = True
        entries.append(entry)
    return entries


def folder_dataset_info(out_dir: str | Path) -> dict[str, Any] | list[dict[str, Any]]:
    """The card's YAML ``dataset_info`` for the shards in ``out_dir``, as ``datasets`` writes it: one mapping
    for a single config, else a list of them (sorted by ``config_name``).

    Per config: ``features`` (from the shards' Arrow schema), ``splits`` (``[{name, num_bytes,
    num_examples}]``, bytes uncompressed), ``download_size`` (Parquet bytes on disk) and ``dataset_size``.
    Only Parquet footers are read.
    """
    import pyarrow.parquet as pq
    from datasets import DatasetInfo, Features, SplitDict, SplitInfo
    from datasets.info import DatasetInfosDict

    infos = DatasetInfosDict()
    for config, splits in parquet_files(out_dir).items():
        split_dict = SplitDict()
        features, download_size = None, 0
        for split, paths in splits.items():
            num_examples = num_bytes = 0
            for path in paths:
                metadata = pq.read_metadata(path)
                num_examples += metadata.num_rows
                num_bytes += sum(
                    metadata.row_group(i).total_byte_size for i in range(metadata.num_row_groups)
                )
                download_size += path.stat().st_size
                if features is None:
                    features = Features.from_arrow_schema(pq.read_schema(path))
            split_dict.add(SplitInfo(name=split, num_bytes=num_bytes, num_examples=num_examples))
        infos[config] = DatasetInfo(
            features=features,
            splits=split_dict,
            download_size=download_size,
            dataset_size=sum(s.num_bytes for s in split_dict.values()),
        )
    card_data: dict[str, Any] = {}
    infos.to_dataset_card_data(card_data)
    return card_data.get("dataset_info", [])


def shards_digest(out_dir: str | Path) -> dict[str, str]:
    """``{config: SHA-256 (hex) of its shards}``, over each shard's path (relative to ``out_dir``) and bytes."""
    digests: dict[str, str] = {}
    for config, splits in parquet_files(out_dir).items():
        digest = hashlib.sha256()
        for path in sorted(p for paths in splits.values() for p in paths):
            digest.update(path.relative_to(out_dir).as_posix().encode() + b"\0")
            with path.open("rb") as handle:
                digest.update(hashlib.file_digest(handle, "sha256").digest())
        digests[config] = digest.hexdigest()
    return digests


def folder_metadata(out_dir: str | Path, default_config: str | None = None) -> dict[str, Any]:
    """The card's YAML ``configs`` (:func:`folder_configs`, each with a ``description`` naming the SHA-256 of
    its shards) and ``dataset_info`` (:func:`folder_dataset_info`); ``{}`` when the folder has no shards.

    ``description`` is a builder parameter (``BuilderConfig.description``), so ``datasets`` folds it into the
    cache key of a local folder: a folder rewritten with other content is never served from the old cache.
    """
    configs = folder_configs(out_dir, default_config=default_config)
    if not configs:
        return {}
    digests = shards_digest(out_dir)
    for entry in configs:
        entry["description"] = f"Parquet shards sha256:{digests[entry['config_name']][:32]}"
    return {"configs": configs, "dataset_info": folder_dataset_info(out_dir)}


def update_readme_configs(out_dir: str | Path, default_config: str | None = None) -> Path:
    """Write the folder's ``configs`` and ``dataset_info`` (see :func:`folder_metadata`) into the YAML
    block of ``README.md`` (created when absent); the rest of the card is kept."""
    from huggingface_hub.repocard import metadata_load, metadata_save

    readme = Path(out_dir) / "README.md"
    metadata = (metadata_load(readme) if readme.exists() else None) or {}
    metadata.pop("configs", None)
    metadata.pop("dataset_info", None)
    metadata.update(folder_metadata(out_dir, default_config=default_config))
    metadata_save(readme, metadata)
    return readme


def parquet_files(out_dir: str | Path) -> dict[str, dict[str, list[Path]]]:
    """``{config: {split: [shard paths]}}`` of the shards in ``out_dir`` (in shard order)."""
    result: dict[str, dict[str, list[Path]]] = {}
    for entry in folder_configs(out_dir):
        config = entry["config_name"]
        result[config] = {}
        for data_file in entry["data_files"]:
            split = data_file["split"]
            result[config][split] = sorted(Path(out_dir).glob(f"{data_file['path']}.parquet"))
    return result


def _check_name(name: str, what: str) -> None:
    if not isinstance(name, str) or not _NAME_RE.match(name):
        raise ConfigError(
            f"invalid {what} name {name!r}",
            field=what,
            fix="use letters, digits and underscores (dots between parts), e.g. 'sft' or 'train'",
        )


def _order_splits(splits: list[str]) -> list[str]:
    known = ["train", "validation", "test"]
    return [s for s in known if s in splits] + [s for s in splits if s not in known]


def _readme_default(out: Path) -> str | None:
    readme = out / "README.md"
    if not readme.exists():
        return None
    import yaml
    from huggingface_hub.repocard import metadata_load

    try:
        metadata = metadata_load(readme) or {}
    except (ValueError, yaml.YAMLError):  # an unreadable card is regenerated anyway; fall back to the first
        return None
    for entry in metadata.get("configs") or []:
        if isinstance(entry, dict) and entry.get("default"):
            return entry.get("config_name")
    return None


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
