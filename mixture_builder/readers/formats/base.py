"""The base of record formats: turn one raw record (or one file's lines) into canonical Documents.

A format never raises on bad data while iterating: ``documents`` yields an ``InputError`` for each bad record,
and the reading step raises or skips-and-counts it (``on_error``).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, ClassVar

from datatrove.data import Document

from mixture_builder.errors import InputError
from mixture_builder.readers.source_file import SourceFile
from mixture_builder.records import make_instruction, make_passage

# Record keys that carry a quality signal; they go to ``metadata["quality_signals"]``.
QUALITY_KEYS = frozenset({"score", "scores", "label", "labels", "rating", "ratings", "quality", "rank"})


@dataclass(frozen=True)
class Skipped:
    """Not an error: an input item that by design yields no record (counted as ``skipped_<reason>``)."""

    reason: str


@dataclass(frozen=True)
class FormatOptions:
    """Options shared by the formats (the readers forward them)."""

    text_key: str = "text"
    id_key: str = "id"
    title_key: str = "title"
    pair_side: str = "pos"  # CaR pairs: "pos" (expert revision), "neg" (original answer) or "both"
    detokenize: bool = True  # WikiText: undo its tokenisation (" @-@ " → "-", spaces before punctuation)
    require_output: bool = False  # empty outputs are bad input (else kept, counted as ``empty_output``)


@dataclass
class Where:
    """The position of one record, for error messages and default ids."""

    file: SourceFile
    index: int | None = None
    line: int | None = None

    def error(
        self,
        problem: str,
        *,
        field: str | None = None,
        fix: str | None = None,
        reason: str = "invalid_record",
    ) -> InputError:
        return self.file.error(
            problem, line=self.line, record=self.index, field=field, fix=fix, reason=reason
        )

    def default_id(self) -> str:
        return f"{self.file.label}:{self.index}"


def lookup(record: dict, keys: Iterable[str]) -> str | None:
    """The first of ``keys`` present in ``record`` (exact name first, then case-insensitively)."""
    keys = tuple(keys)
    for key in keys:
        if key in record:
            return key
    lowered = {str(k).lower(): k for k in record}
    for key in keys:
        if key.lower() in lowered:
            return lowered[key.lower()]
    return None


def get_text(
    record: dict,
    keys: tuple[str, ...],
    where: Where,
    *,
    required: bool = True,
    allow_empty: bool = False,
    fix: str | None = None,
) -> str:
    """A string field (numbers are accepted as text); missing, empty or non-text values raise ``InputError``."""
    key = lookup(record, keys)
    name = keys[0] if key is None else str(key)
    fix = fix or f"give every record a non-empty '{keys[0]}' string, or pass the right format"
    if key is None or record[key] is None:
        if required:
            reason = "missing_field" if key is None else "empty_field"
            return _raise(
                where.error(
                    f"required field '{name}' is {'missing' if key is None else 'null'}",
                    field=name,
                    fix=fix,
                    reason=reason,
                )
            )
        return ""
    value = record[key]
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        _raise(
            where.error(
                f"field '{name}' is a {type(value).__name__}, expected text",
                field=name,
                fix=fix,
                reason="wrong_type",
            )
        )
    value = str(value).replace("\r\n", "\n")
    if required and not allow_empty and not value.strip():
        _raise(where.error(f"required field '{name}' is empty", field=name, fix=fix, reason="empty_field"))
    return value


def _raise(error: InputError):
    raise error


def require_mapping(value: Any, where: Where, expected: str) -> dict:
    """``value`` if it is a JSON object, else a ``wrong_shape`` error naming what was expected."""
    if not isinstance(value, dict):
        raise where.error(
            f"record is a {type(value).__name__}, expected a JSON object with {expected}",
            fix="write one JSON object per record",
            reason="wrong_shape",
        )
    return value


def split_signals(record: dict, used: Iterable[str]) -> tuple[dict, dict]:
    """The record's leftover fields, split into ``(quality_signals, extra)``."""
    used_set = set(used)
    signals, extra = {}, {}
    for key, value in record.items():
        if key in used_set:
            continue
        (signals if str(key).lower() in QUALITY_KEYS else extra)[key] = value
    return signals, extra


class RecordFormat:
    """Turns the records of one file into Documents; subclasses override ``convert`` (one record at a time)."""

    name: ClassVar[str] = ""
    kind: ClassVar[str] = "instruction"
    #: Record keys that identify this format when detecting it (documentation; detection lives in the registry).
    signature: ClassVar[tuple[str, ...]] = ()

    def __init__(self, options: FormatOptions | None = None) -> None:
        self.options = options or FormatOptions()

    def documents(self, file: SourceFile) -> Iterator[Document | InputError]:
        for item in file.records():
            if isinstance(item, InputError):
                yield item
                continue
            where = Where(file, item.index, item.line)
            try:
                for doc in self.convert(item.value, where):
                    yield self.checked(doc, where)
            except InputError as error:
                yield error

    def convert(self, record: Any, where: Where) -> Iterable[Document]:
        raise NotImplementedError

    @staticmethod
    def checked(doc: Document, where: Where) -> Document | InputError:
        """The document, or a ``too_long`` error when its text is over the file's ``max_chars``."""
        if len(doc.text) > where.file.max_chars:
            return where.error(
                f"record text has {len(doc.text):,} characters, over max_chars={where.file.max_chars:,}",
                field="text",
                fix="raise max_chars, or split the record",
                reason="too_long",
            )
        return doc

    # -- builders that fill in provenance ------------------------------------------------------------------
    @staticmethod
    def instruction(where: Where, *, source_id: Any = None, **fields: Any) -> Document:
        file = where.file
        if source_id is not None and not isinstance(source_id, str):  # numeric ids repeat across files
            fields["record_id"] = source_id
            source_id = None
        return make_instruction(
            source=file.source,
            license=file.license,
            source_id=source_id or where.default_id(),
            file=file.label,
            **fields,
        )

    @staticmethod
    def passage(where: Where, text: str, *, title: str, page_id: Any = None, **extra: Any) -> Document:
        file = where.file
        local = where.default_id() if page_id in (None, "") else page_id
        return make_passage(
            text,
            title=title,
            source=file.source,
            license=file.license,
            doc_id=f"{file.source}/{local}",
            file=file.label,
            **extra,
        )
