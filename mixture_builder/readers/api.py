"""``read_records``: the Python entry point for reading raw data without building a pipeline."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from typing import Any

from datatrove.data import Document

from mixture_builder.errors import InputError
from mixture_builder.readers.hub_reader import HubReader
from mixture_builder.readers.steps import OnError, RawReader

_HUB_ID = re.compile(r"^[\w.-]+/[\w.-]+(?::[\w.-]+)?$")


class ReadResult(Iterator[Document]):
    """The documents being read (an iterator), with the reader step's counts once it has run: ``stats``
    (all datatrove stats as ``{name: total}``) and ``dropped`` (``{reason: count}`` of skipped bad input)."""

    def __init__(self, reader: RawReader | HubReader) -> None:
        self.reader = reader
        self._documents = reader.run()

    def __iter__(self) -> ReadResult:
        return self

    def __next__(self) -> Document:
        return next(self._documents)

    @property
    def stats(self) -> dict[str, Any]:
        return {name: metric.total for name, metric in self.reader.stats.stats.items()}

    @property
    def dropped(self) -> dict[str, int]:
        return {
            name[len("dropped_") :]: int(total)
            for name, total in self.stats.items()
            if name.startswith("dropped_")
        }


_DATA_SUFFIXES = (".json", ".jsonl", ".csv", ".tsv", ".parquet", ".txt", ".gz", ".zst", ".raw")


def is_hub_id(path: str | os.PathLike[str]) -> bool:
    """``org/name`` (optionally ``org/name:split``) that is not an existing local path nor a data file name.

    Only strings can be Hub ids: a ``pathlib.Path`` (any ``os.PathLike``) always names a local path."""
    if not isinstance(path, str):
        return False
    name = path.split(":", 1)[0]
    return (
        bool(_HUB_ID.match(path)) and not os.path.exists(name) and not name.lower().endswith(_DATA_SUFFIXES)
    )


def read_records(
    path: str | os.PathLike[str],
    format: str = "auto",
    on_error: OnError = "raise",
    limit: int | None = None,
    source: str | None = None,
    license: str | None = None,
    **options: Any,
) -> ReadResult:
    """Read a file, a folder, an fsspec URL or a Hub dataset id (``org/name[:split]``) as canonical Documents.

    ``options`` go to ``RawReader`` / ``HubReader`` (``text_key``, ``max_chars``, ``pair_side``, ``glob_pattern``…).
    Bad input raises ``InputError`` unless ``on_error="skip"``; then ``result.dropped`` counts it per reason.
    ``path`` may be a ``str`` or any ``os.PathLike`` (``pathlib.Path``); a path object is always local.
    """
    hub = is_hub_id(path)
    path = os.fspath(path)
    common = {
        "format": format,
        "on_error": on_error,
        "limit": -1 if limit is None else limit,
        "source": source,
        "license": license,
    }
    if hub:
        dataset, _, split = path.partition(":")
        return ReadResult(HubReader(dataset, split=split or "train", **common, **options))
    if "://" not in path and not os.path.exists(path):
        raise InputError(
            "no such file or folder",
            path=path,
            reason="missing_file",
            fix="check the path (Hub datasets are given as org/name or org/name:split)",
        )
    return ReadResult(RawReader(path, **common, **options))
