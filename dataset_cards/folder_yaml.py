"""The YAML block a dataset folder's ``README.md`` carries about its shards: ``configs`` (so ``load_dataset`` finds
the splits), a per-config content digest and ``dataset_info`` (both key the local ``datasets`` cache; see
:mod:`dataset_cards.layout`)."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from huggingface_hub.repocard import metadata_load, metadata_save

from dataset_cards.shards import folder_configs, parquet_files


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

    readme = Path(out_dir) / "README.md"
    metadata = (metadata_load(readme) if readme.exists() else None) or {}
    metadata.pop("configs", None)
    metadata.pop("dataset_info", None)
    metadata.update(folder_metadata(out_dir, default_config=default_config))
    metadata_save(readme, metadata)
    return readme
