"""Reader steps: datatrove readers that turn raw files (local paths, fsspec URLs, Hub datasets) into canonical
Documents (see ``mixture_builder.records``). ``HubReader`` (``hub_reader.py``) reads Hub datasets the same way.

``RawReader`` detects each file's format from its content and dispatches; the family readers
(``families.py``: ``AlpacaReader``, ``OasstReader``, ``WikiExtractorReader``…) fix the format.
Bad input raises ``InputError`` (``on_error="raise"``, the default) or is skipped and counted as
``dropped_<reason>`` in the step's stats (``on_error="skip"``).
"""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Iterator
from typing import ClassVar, Literal

from datatrove.data import Document, DocumentsPipeline
from datatrove.io import DataFileLike, DataFolderLike
from datatrove.pipeline.readers.base import BaseDiskReader
from datatrove.utils.logging import logger

from mixture_builder.errors import ConfigError, InputError
from mixture_builder.readers.formats import FORMAT_NAMES, FormatOptions, Skipped, detect_format, get_format
from mixture_builder.readers.provenance import find_provenance
from mixture_builder.readers.source_file import SourceFile
from mixture_builder.records import INSTRUCTION_KEYS, PASSAGE_KEYS

OnError = Literal["raise", "skip"]
#: Files in a data folder that are documentation, not data.
#: Formats whose records are passages (the others are instruction samples).
PASSAGE_FORMATS = ("wikiextractor", "wikitext", "passages", "text")
#: Files in a data folder that are documentation, not data.
NOT_DATA = ("*.md", "*.rst", "LICENSE*", "NOTICE*", ".*", "*.lock")
DEFAULT_MAX_CHARS = 500_000


def _fspath(value: object) -> object:
    """``os.PathLike`` (``pathlib.Path``) → ``str``; datatrove's folder specs (str, DataFolder, tuples) as they are."""
    return os.fspath(value) if isinstance(value, os.PathLike) else value


class ReadingMixin:
    """What every reader step shares: options, the raise-or-skip policy and the per-format loop."""

    @property
    def writes(self) -> frozenset[str]:
        """Metadata of the records read: a passage format's, an instruction format's, or either ('auto')."""
        if self.format in PASSAGE_FORMATS:
            return PASSAGE_KEYS
        return INSTRUCTION_KEYS if self.format != "auto" else PASSAGE_KEYS | INSTRUCTION_KEYS

    format: str
    on_error: OnError
    max_logged_errors = 5

    def _setup(
        self,
        *,
        format: str,
        on_error: str,
        source: str | None,
        license: str | None,
        max_chars: int,
        encoding: str,
        options: FormatOptions,
    ) -> None:
        if format not in FORMAT_NAMES:
            raise ConfigError(
                f"unknown format {format!r}", field="format", fix=f"use one of {', '.join(FORMAT_NAMES)}"
            )
        if on_error not in ("raise", "skip"):
            raise ConfigError(f"on_error must be 'raise' or 'skip', not {on_error!r}", field="on_error")
        if options.pair_side not in ("pos", "neg", "both"):
            raise ConfigError(
                f"pair_side must be 'pos', 'neg' or 'both', not {options.pair_side!r}", field="pair_side"
            )
        if max_chars <= 0:
            raise ConfigError(f"max_chars must be positive, not {max_chars}", field="max_chars")
        self.format, self.on_error, self.source, self.license = format, on_error, source, license
        self.max_chars, self.encoding, self.options = max_chars, encoding, options
        self._logged: dict[str, int] = {}

    def _fail(self, error: InputError) -> None:
        """Raise ``error`` or, with ``on_error="skip"``, count it as ``dropped_<reason>`` and log the first few."""
        if self.on_error == "raise":
            raise error
        self.stat_update(f"dropped_{error.reason}")
        seen = self._logged.get(error.reason, 0)
        self._logged[error.reason] = seen + 1
        if seen < self.max_logged_errors:
            logger.warning(f"skipped: {error}")
        elif seen == self.max_logged_errors:
            logger.warning(
                f"more '{error.reason}' records skipped; see the dropped_{error.reason} count in the stats"
            )

    def _documents(self, file: SourceFile) -> Iterator[Document]:
        try:
            name = self.format if self.format != "auto" else detect_format(file, self.options.text_key)
        except InputError as error:
            self._fail(error)
            return
        for item in get_format(name, self.options).documents(file):
            if isinstance(item, InputError):
                self._fail(item)
            elif isinstance(item, Skipped):
                self.stat_update(f"skipped_{item.reason}")
            else:
                if self.default_metadata:
                    item.metadata = self.default_metadata | item.metadata
                meta = item.metadata
                if (
                    meta.get("kind") == "instruction"
                    and not meta.get("prompt_only")
                    and not meta["output"].strip()
                ):
                    self.stat_update("empty_output")
                yield item


class RawReader(ReadingMixin, BaseDiskReader):
    """Read raw files into canonical Documents, detecting each file's format (or forcing ``format``).

    Args:
        data_folder: a folder or a single file: local path, fsspec URL (``s3://…``, ``hf://datasets/…``) or DataFolder.
        format: ``"auto"`` (detect per file from its content) or one of ``FORMAT_NAMES``.
        glob_pattern / recursive / paths_file: which files of the folder to read (datatrove semantics).
        on_error: ``"raise"`` an ``InputError`` on bad input, or ``"skip"`` it and count ``dropped_<reason>``.
        limit / skip: documents per task (datatrove semantics).
        source / license: provenance of every record; default: the name of the folder holding ``SOURCE.md``
            and the license its ``License:`` line names (else the folder/file name and ``"unknown"``).
        text_key / id_key / title_key: columns of passage records.
        pair_side: CaR pairs, which response becomes the output (``pos``, ``neg`` or ``both``).
        detokenize: undo WikiText tokenisation.
        require_output: treat an empty output as bad input (``empty_field``); by default such records (real
            Alpaca has a few) are kept and counted as ``empty_output``.
        max_chars: records whose text is longer are bad input (reason ``too_long``).
        encoding: text encoding of the files.
    """

    name = "📥 lm-mixup raw reader"
    step_id = "read"
    default_format: ClassVar[str] = "auto"

    def __init__(
        self,
        data_folder: DataFolderLike | os.PathLike[str],
        format: str | None = None,
        glob_pattern: str | None = None,
        on_error: OnError = "raise",
        limit: int = -1,
        *,
        source: str | None = None,
        license: str | None = None,
        text_key: str = "text",
        id_key: str = "id",
        title_key: str = "title",
        pair_side: str = "pos",
        detokenize: bool = True,
        require_output: bool = False,
        max_chars: int = DEFAULT_MAX_CHARS,
        encoding: str = "utf-8",
        paths_file: DataFileLike | os.PathLike[str] | None = None,
        recursive: bool = True,
        skip: int = 0,
        file_progress: bool = False,
        doc_progress: bool = False,
        shuffle_files: bool = False,
        default_metadata: dict | None = None,
    ):
        super().__init__(
            _fspath(data_folder),
            paths_file=_fspath(paths_file),
            limit=limit,
            skip=skip,
            file_progress=file_progress,
            doc_progress=doc_progress,
            text_key=text_key,
            id_key=id_key,
            default_metadata=default_metadata,
            recursive=recursive,
            glob_pattern=glob_pattern,
            shuffle_files=shuffle_files,
            add_file_path=False,
        )
        self._setup(
            format=format or self.default_format,
            on_error=on_error,
            source=source,
            license=license,
            max_chars=max_chars,
            encoding=encoding,
            options=FormatOptions(
                text_key=text_key,
                id_key=id_key,
                title_key=title_key,
                pair_side=pair_side,
                detokenize=detokenize,
                require_output=require_output,
            ),
        )
        self._provenance: dict = {}

    def run(self, data: DocumentsPipeline = None, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        folder = self.data_folder
        if not self.paths_file and not folder.fs.exists(folder.path):
            raise InputError(
                "no such file or folder",
                path=folder.path,
                reason="missing_file",
                fix="check the path (Hub datasets are read with HubReader / org/name ids)",
            )
        try:
            yield from super().run(data, rank, world_size)
        except RuntimeError as error:
            if not str(error).startswith("No files found"):
                raise
            raise InputError(
                "the folder has no files to read",
                path=folder.path,
                reason="no_files",
                fix="check the folder and glob_pattern",
            ) from None

    def read_file(self, filepath: str) -> DocumentsPipeline:
        full_path = self.data_folder.resolve_paths(filepath)
        basename = full_path.rstrip("/").rsplit("/", 1)[-1]
        in_folder = filepath != ""
        if in_folder and any(fnmatch.fnmatch(basename, pattern) for pattern in NOT_DATA):
            self.stat_update("skipped_non_data_file")
            return
        file = self._source_file(filepath, full_path, basename)
        if file.container == "score_table":
            if in_folder:  # side data (e.g. DS2 rater scores): not records
                logger.info(f"{full_path}: score table, not records; read it with load_score_table()")
                self.stat_update("skipped_score_table")
                return
            self._fail(
                file.error(
                    "is a score table (torch file), not records",
                    reason="score_table",
                    fix="load it with mixture_builder.readers.load_score_table()",
                )
            )
            return
        if file.container == "empty":
            self._fail(file.error("file is empty", reason="empty_file", fix="remove the file or add records"))
            return
        yield from self._documents(file)

    def _source_file(self, filepath: str, full_path: str, basename: str) -> SourceFile:
        fs = self.data_folder.fs
        if filepath:
            fallback = self.data_folder.path.rstrip("/").rsplit("/", 1)[-1]
        else:
            fallback = basename.split(".", 1)[0] or basename
        prov = find_provenance(fs, self.data_folder._join(filepath), fallback, self._provenance)
        return SourceFile(
            path=full_path,
            label=prov.label,
            source=self.source or prov.source,
            license=self.license or prov.license,
            open_binary=lambda: self.data_folder.open(filepath, "rb", compression="infer"),
            encoding=self.encoding,
            max_chars=self.max_chars,
        )


