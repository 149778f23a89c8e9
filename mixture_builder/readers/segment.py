"""``PassageSegmenter``: split passages into windows of at most ``max_tokens`` on paragraph boundaries."""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from typing import Any

from datatrove.data import Document, DocumentsPipeline
from datatrove.pipeline.base import PipelineStep

from mixture_builder.errors import ConfigError
from mixture_builder.records import PASSAGE

_PARAGRAPH_BREAK = re.compile(r"\n\s*\n")
_SENTENCE_BREAK = re.compile(r"(?<=[.!?])([\"')\]]?)\s+(?=[\"'(\[]?[A-Z0-9])")


def whitespace_tokens(text: str) -> int:
    """The default token count: whitespace-separated words."""
    return len(text.split())


def split_passage(text: str, max_tokens: int, count: Callable[[str], int] = whitespace_tokens) -> list[str]:
    """Greedily pack paragraphs into windows of at most ``max_tokens``; a longer paragraph is split on
    sentence boundaries (and a longer sentence on words). Paragraphs stay separated by a blank line."""
    units: list[tuple[str, bool]] = []  # (text, starts a paragraph)
    for paragraph in _PARAGRAPH_BREAK.split(text):
        paragraph = paragraph.strip()
        if not paragraph:
            continue
        if count(paragraph) <= max_tokens:
            units.append((paragraph, True))
            continue
        pieces = [piece for sentence in _sentences(paragraph) for piece in _fit(sentence, max_tokens, count)]
        units.extend((piece, i == 0) for i, piece in enumerate(pieces))
    windows: list[str] = []
    current = ""
    for unit, new_paragraph in units:
        candidate = unit if not current else current + ("\n\n" if new_paragraph else " ") + unit
        if current and count(candidate) > max_tokens:
            windows.append(current)
            candidate = unit
        current = candidate
    if current:
        windows.append(current)
    return windows


def _sentences(paragraph: str) -> list[str]:
    pieces, start = [], 0
    for match in _SENTENCE_BREAK.finditer(paragraph):
        pieces.append(paragraph[start : match.start() + len(match.group(1))].strip())  # keep a closing quote
        start = match.end()
    pieces.append(paragraph[start:].strip())
    return [piece for piece in pieces if piece]


def _fit(sentence: str, max_tokens: int, count: Callable[[str], int]) -> list[str]:
    if count(sentence) <= max_tokens:
        return [sentence]
    pieces, current, used = [], [], 0
    for word in sentence.split():
        tokens = count(word)
        if current and used + tokens > max_tokens:
            pieces.append(" ".join(current))
            current, used = [], 0
        current.append(word)
        used += tokens
    if current:
        pieces.append(" ".join(current))
    return pieces


class PassageSegmenter(PipelineStep):
    """Split each passage into windows of at most ``max_tokens`` on paragraph boundaries.

    Args:
        max_tokens: window size. Tokens are whitespace words unless ``tokenizer`` is given.
        tokenizer: ``None`` (words), a callable ``text -> token count``, an object with ``encode`` (a
            ``transformers``/``tokenizers`` tokenizer), or a local tokenizer path for ``AutoTokenizer``.
        min_tokens: windows with fewer tokens are dropped and counted (``dropped_too_short``).

    Each window keeps the passage's metadata; ``doc_id`` (and the Document id) get a ``#k`` suffix,
    ``segment_index`` is ``k`` and ``article_id`` the passage's own ``doc_id``. Non-passage documents pass
    through unchanged.
    """

    name = "✂️ passage segmenter"
    step_id = "segment"
    type = "✂️ - SEGMENTER"

    def __init__(self, max_tokens: int = 256, tokenizer: Any = None, min_tokens: int = 1) -> None:
        super().__init__()
        if max_tokens < 1:
            raise ConfigError(f"max_tokens must be at least 1, not {max_tokens}", field="max_tokens")
        if min_tokens > max_tokens:
            raise ConfigError(
                f"min_tokens ({min_tokens}) is above max_tokens ({max_tokens})", field="min_tokens"
            )
        self.max_tokens, self.min_tokens, self.tokenizer = max_tokens, min_tokens, tokenizer
        self._count: Callable[[str], int] | None = None

    def count_tokens(self, text: str) -> int:
        if self._count is None:
            self._count = _counter(self.tokenizer)
        return self._count(text)

    def segment(self, doc: Document) -> list[Document]:
        """The windows of one passage, as Documents."""
        article_id = doc.metadata.get("doc_id", doc.id)
        segments = []
        for index, window in enumerate(split_passage(doc.text, self.max_tokens, self.count_tokens)):
            if self.count_tokens(window) < self.min_tokens:
                self.stat_update("dropped_too_short")
                continue
            segment_id = f"{article_id}#{index}"
            metadata = {
                **doc.metadata,
                "doc_id": segment_id,
                "segment_index": index,
                "article_id": article_id,
            }
            segments.append(Document(text=window, id=segment_id, metadata=metadata))
        return segments

    def run(self, data: DocumentsPipeline, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        for doc in data or ():
            self.stat_update("input_documents")
            if doc.metadata.get("kind") != PASSAGE:
                self.stat_update("passed_through")
                yield doc
                continue
            with self.track_time():
                segments = self.segment(doc)
            self.stat_update("segments", value=len(segments))
            for segment in segments:
                self.update_doc_stats(segment)
                yield segment


def _counter(tokenizer: Any) -> Callable[[str], int]:
    if tokenizer is None:
        return whitespace_tokens
    if isinstance(tokenizer, (str, os.PathLike)):
        from transformers import AutoTokenizer

        tokenizer = AutoTokenizer.from_pretrained(os.fspath(tokenizer))
    if hasattr(tokenizer, "encode"):
        encode = tokenizer.encode

        def count(text: str) -> int:
            encoded = encode(text)
            return len(getattr(encoded, "ids", encoded))

        return count
    if callable(tokenizer):
        return tokenizer
    raise ConfigError(
        f"tokenizer must be a callable, a tokenizer or a path, not {type(tokenizer).__name__}",
        field="tokenizer",
    )
