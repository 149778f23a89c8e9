"""Where a dataset folder's Parquet shards live and how they are named: ``data_{config}/{split}-NNNNN-of-NNNNN.parquet``
(``data/`` for the ``default`` config), and finding them again (:func:`folder_configs`, :func:`parquet_files`)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml
from huggingface_hub.repocard import metadata_load

from mixture_builder.errors import ConfigError

_NAME_RE = re.compile(r"^\w+(\.\w+)*$")  # datasets' own rule for split names; used for configs too


_SHARD_RE = re.compile(r"^(?P<split>\w+(?:\.\w+)*)-(?P<index>\d{5})-of-(?P<total>\d{5})\.parquet$")


def config_dir_name(config: str) -> str:
    """Folder of a config's shards: ``"default"`` → ``data``, ``"sft"`` → ``data_sft``."""
    return "data" if config == "default" else f"data_{config}"


def shard_name(split: str, index: int, total: int) -> str:
    """``train``, 0, 2 → ``train-00000-of-00002.parquet``."""
    return f"{split}-{index:05d}-of-{total:05d}.parquet"


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


def check_name(name: str, what: str) -> None:
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

    try:
        metadata = metadata_load(readme) or {}
    except (ValueError, yaml.YAMLError):  # an unreadable card is regenerated anyway; fall back to the first
        return None
    for entry in metadata.get("configs") or []:
        if isinstance(entry, dict) and entry.get("default"):
            return entry.get("config_name")
    return None
