"""Passage formats: WikiExtractor ``<doc>`` files and JSON, WikiText raw, records with a text column, plain text.

Passage text is normalised to paragraphs separated by one blank line, which is what ``PassageSegmenter`` splits
on. A leading line that repeats the title (WikiExtractor) is dropped.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Iterator
from itertools import chain
from typing import Any

from datatrove.data import Document

from mixture_builder.errors import InputError
from mixture_builder.readers.formats.base import RecordFormat, Where, get_text, lookup, require_mapping
from mixture_builder.readers.source_file import WIKITEXT_TITLE, SourceFile

_DOC_OPEN = re.compile(r"^<doc\s+(?P<attrs>.*)>\s*$")
_ATTR = re.compile(r'(\w+)="([^"]*)"')
_WIKITEXT_HEADING = re.compile(r"^ (= )+.*( =)+ $")
_DETOKENIZE = (
    (re.compile(r" @(.)@ "), r"\1"),
    (re.compile(r" ([,.;:!?%)\]}])"), r"\1"),
    (re.compile(r"([(\[{$]) "), r"\1"),
    (re.compile(r" (n't|'s|'re|'ve|'m|'ll|'d)\b"), r"\1"),
)


def paragraphs_text(lines: Iterable[str], title: str = "") -> str:
    """Non-empty lines as paragraphs joined by blank lines; a first line equal to ``title`` is dropped."""
    paragraphs = [line.strip() for line in lines if line.strip()]
    if title and paragraphs and paragraphs[0] == title.strip():
        paragraphs = paragraphs[1:]
    return "\n\n".join(paragraphs)


class PassagesFormat(RecordFormat):
    """Records with a text column (``options.text_key``, default ``text``); ``title``/``id``/``url`` when present."""

    name = "passages"
    kind = "passage"
    signature = ("text",)
    strip_title = False

    def convert(self, record: Any, where: Where) -> Iterable[Document]:
        options = self.options
        record = require_mapping(record, where, f"a '{options.text_key}' field")
        text = get_text(
            record,
            (options.text_key,),
            where,
            fix=f"give every record a non-empty '{options.text_key}', or set text_key",
        )
        title_key, id_key, url_key = (
            lookup(record, (k,)) for k in (options.title_key, options.id_key, "url")
        )
        title = str(record[title_key]) if title_key and record[title_key] is not None else ""
        text = paragraphs_text(text.splitlines(), title if self.strip_title else "")
        if not text:
            raise where.error(
                "passage has no text besides its title",
                field=options.text_key,
                reason="empty_field",
                fix="drop empty articles",
            )
        extra = {"url": record[url_key]} if url_key else {}
        yield self.passage(where, text, title=title, page_id=record[id_key] if id_key else None, **extra)


class WikiExtractorFormat(PassagesFormat):
    """WikiExtractor output: ``<doc id= url= title=>`` … ``</doc>`` text files, or its ``--json`` records."""

    name = "wikiextractor"
    signature = ("id", "url", "title", "text")
    strip_title = True

    def documents(self, file: SourceFile) -> Iterator[Document | InputError]:
        if file.container != "doc":
            yield from super().documents(file)
            return
        attrs: dict[str, str] | None = None
        body: list[str] = []
        start = 0
        broken = False
        for item in file.lines():
            if isinstance(item, InputError):
                broken = attrs is not None
                yield item
                continue
            number, line = item
            opened = _DOC_OPEN.match(line)
            if opened:
                if attrs is not None:
                    yield file.error(
                        "<doc> opened before the previous one was closed",
                        line=start,
                        fix="add the missing </doc>",
                        reason="malformed_doc",
                    )
                attrs = {k: html.unescape(v) for k, v in _ATTR.findall(opened["attrs"])}
                body, start, broken = [], number, False
            elif line.strip() == "</doc>":
                if attrs is None:
                    yield file.error(
                        "</doc> without an opening <doc>",
                        line=number,
                        reason="malformed_doc",
                        fix="remove the stray </doc> or restore its <doc> line",
                    )
                elif not broken:
                    yield from self._article(file, attrs, body, start)
                attrs = None
            elif attrs is not None:
                body.append(line)
            elif line.strip():
                yield file.error(
                    "text outside any <doc> … </doc>",
                    line=number,
                    reason="malformed_doc",
                    fix="wrap every article in <doc …> and </doc>",
                )
        if attrs is not None:
            yield file.error(
                "<doc> is never closed",
                line=start,
                fix="add </doc> at the end of the article",
                reason="malformed_doc",
            )

    def _article(
        self, file: SourceFile, attrs: dict, body: list[str], start: int
    ) -> Iterator[Document | InputError]:
        where = Where(file, line=start)
        title = attrs.get("title", "")
        text = paragraphs_text(body, title)
        if not text:
            yield where.error(
                f"article {title!r} is empty", field="text", reason="empty_field", fix="drop empty articles"
            )
            return
        doc = self.passage(
            where,
            text,
            title=title,
            page_id=attrs.get("id") or f"{file.label}:{start}",
            **({"url": attrs["url"]} if attrs.get("url") else {}),
        )
        yield self.checked(doc, where)


class WikiTextFormat(RecordFormat):
    """WikiText raw: an article starts at a `` = Title = `` line; `` = = Section = = `` headings are dropped;
    with ``options.detokenize`` the WikiText tokenisation is undone (``@-@`` → ``-``, no space before ``,``)."""

    name = "wikitext"
    kind = "passage"

    def documents(self, file: SourceFile) -> Iterator[Document | InputError]:
        title, body, start, count, broken = None, [], 0, 0, False
        for item in chain(file.lines(), [(None, None)]):
            if isinstance(item, InputError):
                broken = title is not None
                yield item
                continue
            number, line = item
            if line is None or WIKITEXT_TITLE.match(line):
                if title is not None and not broken:
                    yield from self._article(file, title, body, start, count)
                    count += 1
                if line is None:
                    break
                title, body, start, broken = line.strip(" =").strip(), [], number, False
            elif title is None:
                if line.strip():
                    yield file.error(
                        "text before the first ' = Title = ' line",
                        line=number,
                        reason="malformed_doc",
                        fix="start the file with an article title line",
                    )
            elif not _WIKITEXT_HEADING.match(line):
                body.append(self._detok(line))

    def _detok(self, line: str) -> str:
        if not self.options.detokenize:
            return line
        for pattern, replacement in _DETOKENIZE:
            line = pattern.sub(replacement, line)
        return line

    def _article(self, file, title, body, start, count) -> Iterator[Document | InputError]:
        where = Where(file, index=count, line=start)
        text = paragraphs_text(body)
        if not text:
            yield where.error(
                f"article {title!r} is empty", field="text", reason="empty_field", fix="drop empty articles"
            )
            return
        yield self.checked(self.passage(where, text, title=self._detok(title)), where)


class TextFormat(RecordFormat):
    """A plain text file: the whole file is one passage, titled by its file name."""

    name = "text"
    kind = "passage"

    def documents(self, file: SourceFile) -> Iterator[Document | InputError]:
        lines = []
        for item in file.lines():
            if isinstance(item, InputError):
                yield item
                return
            lines.append(item[1])
        where = Where(file, index=0, line=1)
        text = paragraphs_text(_paragraph_lines(lines))
        if not text:
            yield file.error("file has no text", reason="empty_file", fix="remove the empty file")
            return
        yield self.checked(
            self.passage(where, text, title=file.label.rsplit("/", 1)[-1], page_id=file.label), where
        )


def _paragraph_lines(lines: list[str]) -> list[str]:
    """Re-join hard-wrapped lines: consecutive non-blank lines form one paragraph."""
    paragraphs, current = [], []
    for line in [*lines, ""]:
        if line.strip():
            current.append(line.strip())
        elif current:
            paragraphs.append(" ".join(current))
            current = []
    return paragraphs
