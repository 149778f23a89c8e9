"""One input file (or Hub dataset split) as the readers see it: sniffed container, decoded lines, raw records.

Bad bytes and bad records never end the iteration: they come out as ``InputError`` items, so the reading step
decides whether to raise or to skip and count them (``on_error``).
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import IO, Any

from mixture_builder.errors import InputError

HEAD_BYTES = 64 * 1024
WIKITEXT_TITLE = re.compile(r"^ = [^=].* = $")
_CSV_HEADER = re.compile(r"^\"?[A-Za-z_][\w.-]*\"?(,\"?[A-Za-z_][\w.-]*\"?)+$")  # e.g. src,pos,neg
_COMPRESSION_SUFFIXES = (".gz", ".zst", ".bz2", ".xz")

# Containers: how the bytes are laid out (the record *format* is decided on top of it).
RECORD_CONTAINERS = ("json", "jsonl", "csv", "parquet", "rows")
TEXT_CONTAINERS = ("doc", "wikitext", "text")
ENCODING_FIX = "re-encode the file as UTF-8 (e.g. `iconv -f latin1 -t utf-8`) or pass encoding='latin-1' (--encoding latin-1)"


@dataclass
class RawRecord:
    """One parsed record with its position: ``index`` counts records (0-based), ``line`` is 1-based."""

    value: Any
    index: int
    line: int | None = None


def sniff_container(head: bytes, name: str) -> str:
    """The container of a file from its first bytes (and its name for CSV/Parquet); ``"empty"`` when blank."""
    lower = name.lower()
    for suffix in _COMPRESSION_SUFFIXES:
        lower = lower.removesuffix(suffix)
    if head.startswith(b"PAR1") or lower.endswith(".parquet"):
        return "parquet"
    if head.startswith(b"PK\x03\x04") or lower.endswith((".pt", ".pth")):
        return "score_table"
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if not stripped:
        return "empty"
    if stripped.startswith((b"<doc ", b"<doc\t")):
        return "doc"
    if stripped[:1] == b"[":
        return "json"
    if stripped[:1] == b"{":
        first = stripped.split(b"\n", 1)[0].strip()
        return "jsonl" if first not in (b"{",) else "json"
    text = head.decode("utf-8", errors="replace")
    lines = text.splitlines()[:200]
    if any(WIKITEXT_TITLE.match(line) for line in lines):
        return "wikitext"
    if lower.endswith((".csv", ".tsv")) or (lines and _CSV_HEADER.match(lines[0])):
        return "csv"
    return "text"


@dataclass
class SourceFile:
    """An input being read: where it is, its provenance defaults, and lazy access to lines or records."""

    path: str
    label: str
    source: str
    license: str
    open_binary: Callable[[], IO[bytes]] | None = None
    rows: Iterable[dict] | None = None
    encoding: str = "utf-8"
    max_chars: int = 500_000
    container: str = ""
    _buffer: list[RawRecord | InputError] = field(default_factory=list, repr=False)
    _pending: Iterator[RawRecord | InputError] | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if not self.container:
            self.container = "rows" if self.rows is not None else sniff_container(self.head(), self.path)

    def head(self, size: int = HEAD_BYTES) -> bytes:
        assert self.open_binary is not None
        with self.open_binary() as handle:
            return handle.read(size)

    def error(
        self,
        problem: str,
        *,
        line: int | None = None,
        record: int | None = None,
        field: str | None = None,
        fix: str | None = None,
        reason: str = "invalid_record",
    ) -> InputError:
        return InputError(
            problem, path=self.path, line=line, record=record, field=field, fix=fix, reason=reason
        )

    # -- text containers -------------------------------------------------------------------------------------
    def lines(self) -> Iterator[tuple[int, str] | InputError]:
        """Decoded lines without their line break, numbered from 1; undecodable lines come out as errors."""
        assert self.open_binary is not None
        with self.open_binary() as handle:
            for number, raw in enumerate(handle, 1):
                try:
                    text = raw.decode(self.encoding)
                except UnicodeDecodeError as error:
                    yield self._encoding_error(error, line=number, column=error.start + 1)
                    continue
                if number == 1:
                    text = text.lstrip("\ufeff")
                yield number, text.rstrip("\r\n")

    def _encoding_error(
        self, error: UnicodeDecodeError, *, line: int, column: int | None = None
    ) -> InputError:
        where = f" at column {column}" if column else ""
        return self.error(
            f"bytes {error.object[error.start : error.start + 4]!r} are not valid {self.encoding}{where}",
            line=line,
            fix=ENCODING_FIX,
            reason="bad_encoding",
        )

    # -- record containers -----------------------------------------------------------------------------------
    def first_record(self) -> RawRecord | None:
        """The first well-formed record (for format detection); errors before it stay queued for the reader."""
        if self._pending is None:
            self._pending = self._iter_records()
        for item in self._buffer:
            if isinstance(item, RawRecord):
                return item
        for item in self._pending:
            self._buffer.append(item)
            if isinstance(item, RawRecord):
                return item
        return None

    def records(self) -> Iterator[RawRecord | InputError]:
        """All records of the file, in order (including any already peeked at)."""
        if self._pending is None:
            self._pending = self._iter_records()
        while self._buffer:
            yield self._buffer.pop(0)
        yield from self._pending

    def _iter_records(self) -> Iterator[RawRecord | InputError]:
        if self.container == "rows":
            for index, row in enumerate(self.rows or ()):
                yield RawRecord(row, index)
        elif self.container == "jsonl":
            yield from self._jsonl()
        elif self.container == "json":
            yield from self._json_array()
        elif self.container == "csv":
            yield from self._csv()
        elif self.container == "parquet":
            yield from self._parquet()
        else:
            yield self.error(
                f"holds {self.container} content, not records",
                fix="use a passage format (wikiextractor, wikitext, text) or convert it to JSON lines",
                reason="wrong_shape",
            )

    def _jsonl(self) -> Iterator[RawRecord | InputError]:
        index = 0
        for item in self.lines():
            if isinstance(item, InputError):  # undecodable line: still one record
                yield self.error(item.problem, line=item.line, record=index, fix=item.fix, reason=item.reason)
                index += 1
                continue
            number, text = item
            if not text.strip():
                continue
            try:
                value = json.loads(text)
            except json.JSONDecodeError as error:
                yield self.error(
                    f"malformed JSON ({error.msg} at column {error.colno})",
                    line=number,
                    record=index,
                    fix="fix or remove the line; every line must be one complete JSON object",
                    reason="malformed_json",
                )
            else:
                yield RawRecord(value, index, number)
            index += 1

    def _json_array(self) -> Iterator[RawRecord | InputError]:
        assert self.open_binary is not None
        with self.open_binary() as handle:
            data = handle.read()
        try:
            text = data.decode(self.encoding).lstrip("\ufeff")
        except UnicodeDecodeError as error:
            yield self._encoding_error(error, line=data.count(b"\n", 0, error.start) + 1)
            return
        try:
            value = json.loads(text)
        except json.JSONDecodeError as error:
            yield self.error(
                f"malformed JSON ({error.msg} at column {error.colno})",
                line=error.lineno,
                fix="fix the JSON syntax (check it with `python -m json.tool FILE`) or write one record per line",
                reason="malformed_json",
            )
            return
        if isinstance(value, dict):
            yield self.error(
                f"is one JSON object (keys {sorted(value)[:8]}), expected a JSON array of records",
                fix="store the records as a JSON array or as JSON lines",
                reason="wrong_shape",
            )
            return
        if not isinstance(value, list):
            yield self.error(
                f"holds a JSON {type(value).__name__}, expected an array of records",
                reason="wrong_shape",
                fix="store the records as a JSON array or as JSON lines",
            )
            return
        if not value:
            yield self.error(
                "holds an empty JSON array", fix="remove the file or add records", reason="empty_file"
            )
        for index, record in enumerate(value):
            yield RawRecord(record, index)

    def _csv(self) -> Iterator[RawRecord | InputError]:
        assert self.open_binary is not None
        csv.field_size_limit(max(csv.field_size_limit(), self.max_chars + 1))
        dialect = "excel-tab" if self.path.lower().endswith(".tsv") else "excel"
        with self.open_binary() as handle:
            text = io.TextIOWrapper(handle, encoding=self.encoding, newline="")
            reader = csv.DictReader(text, dialect=dialect)
            index = 0
            while True:
                try:
                    row = next(reader)
                except StopIteration:
                    return
                except UnicodeDecodeError as error:
                    yield self._encoding_error(error, line=reader.line_num + 1)
                    return
                except csv.Error as error:
                    yield self.error(
                        f"malformed CSV ({error})",
                        line=reader.line_num,
                        record=index,
                        fix="fix the quoting of this row",
                        reason="malformed_csv",
                    )
                    return
                if None in row:
                    yield self.error(
                        f"row has {len(reader.fieldnames or []) + len(row[None])} fields, the header has "
                        f"{len(reader.fieldnames or [])}",
                        line=reader.line_num,
                        record=index,
                        fix="quote fields that contain commas",
                        reason="wrong_shape",
                    )
                else:
                    yield RawRecord(dict(row), index, reader.line_num)
                index += 1

    def _parquet(self) -> Iterator[RawRecord | InputError]:
        import pyarrow.parquet as pq

        assert self.open_binary is not None
        with self.open_binary() as handle:
            index = 0
            for batch in pq.ParquetFile(handle).iter_batches(batch_size=1024):
                for row in batch.to_pylist():
                    yield RawRecord(row, index)
                    index += 1
