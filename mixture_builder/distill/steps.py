"""Record-wise datatrove steps of the distillation pipeline (one small class per job)."""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from datatrove.data import Document, DocumentsPipeline
from datatrove.pipeline.base import PipelineStep
from datatrove.pipeline.filters.base_filter import BaseFilter
from datatrove.pipeline.readers import JsonlReader

from mixture_builder.distill.parse import DistillParseError, parse_distillation
from mixture_builder.errors import InputError
from mixture_builder.records import INSTRUCTION, render_instruction
from mixture_builder.teacher.rater import QualityRater
from mixture_builder.teacher.types import ChatRequest, ChatResult

_PLACEHOLDER_INPUTS = {"<noinput>", "<no input>", "noinput", "no input", "n/a", "none", "null", "-"}
_SPACES = re.compile(r"[ \t\u00a0]+")
_BLANK_LINES = re.compile(r"\n{3,}")


def normalise_text(text: str) -> str:
    """Unicode-safe whitespace clean-up: trimmed lines, single spaces, at most one blank line."""
    lines = [_SPACES.sub(" ", line).strip() for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()


class StageOutputReader(JsonlReader):
    """Reads an earlier stage's JSONL output; an empty output (every record of that stage was dropped, so no
    file was written) yields nothing instead of failing."""

    name = "🐿 Jsonl (stage output)"

    def run(self, data: DocumentsPipeline = None, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        if not self.data_folder.isdir("") or not self.data_folder.list_files(glob_pattern=self.glob_pattern):
            if data:
                yield from data
            return
        yield from super().run(data, rank, world_size)


class NormaliseInstruction(BaseFilter):
    """Normalise whitespace and placeholder inputs of instruction samples; drop what cannot be used
    (reasons ``not_instruction``, ``empty_instruction``, ``empty_output``)."""

    name = "🧽 Normalise instruction samples"
    step_id = "normalise"
    reads = frozenset({"kind"})

    def filter(self, doc: Document) -> bool | tuple[bool, str]:
        meta = doc.metadata
        if meta.get("kind") != INSTRUCTION:
            return False, "not_instruction"
        instruction = normalise_text(str(meta.get("instruction") or ""))
        input_ = normalise_text(str(meta.get("input") or ""))
        output = normalise_text(str(meta.get("output") or ""))
        if input_.lower() in _PLACEHOLDER_INPUTS:
            input_ = ""
        if not instruction:
            return False, "empty_instruction"
        if not output:
            return False, "empty_output"
        meta.update(instruction=instruction, input=input_, output=output)
        doc.text = render_instruction(instruction, input_, output)
        return True


def _as_score(value: Any) -> int | None:
    """A 0–5 integer score from a column value (numbers or numeric strings), else ``None``."""
    if isinstance(value, bool) or value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    if not 0 <= number <= 5:
        return None
    return round(number)


def load_scores_file(path: str, column: str) -> dict[str, int]:
    """``{id: score}`` from a JSONL or CSV file with columns ``id`` and ``column``."""
    file = Path(path)
    if not file.is_file():
        raise InputError("scores file not found", path=path, field="scoring.scores_file", fix="check the path")
    rows: list[tuple[int, dict[str, Any]]] = []
    with file.open(encoding="utf-8", newline="") as handle:
        if file.suffix == ".csv":
            rows = list(enumerate(csv.DictReader(handle), start=2))
        else:
            for line_no, line in enumerate(handle, start=1):
                if line.strip():
                    try:
                        rows.append((line_no, json.loads(line)))
                    except json.JSONDecodeError as error:
                        raise InputError(f"not valid JSON ({error.msg})", path=path, line=line_no,
                                         fix="one JSON object per line") from error
    scores: dict[str, int] = {}
    for line_no, row in rows:
        if "id" not in row or _as_score(row.get(column)) is None:
            raise InputError(f"needs 'id' and a 0–5 '{column}'", path=path, line=line_no,
                             field=column if "id" in row else "id", fix="fix the row or remove it")
        scores[str(row["id"])] = _as_score(row[column])  # type: ignore[assignment]
    return scores


class AttachExistingScore(PipelineStep):
    """Take an existing 0–5 quality score from a record field (or its ``quality_signals``) or a scores file.

    Sets ``metadata["quality"]`` and ``metadata["quality_origin"] = "column"``; counts ``scored_from_column``
    and ``unscored``. Records keep flowing either way (the rater or ``RequireScore`` handles the rest).
    """

    name = "🏷️ Existing quality scores"
    step_id = "existing_scores"
    writes = frozenset({"quality", "quality_origin"})
    type = "✂️ - PROCESS"

    def __init__(self, column: str | None = "quality", scores_file: str | None = None) -> None:
        super().__init__()
        self.column = column
        self.scores_file = scores_file
        self._file_scores: dict[str, int] | None = None

    def score_of(self, doc: Document) -> int | None:
        meta = doc.metadata
        if self.scores_file is not None:
            if self._file_scores is None:
                self._file_scores = load_scores_file(self.scores_file, self.column or "quality")
            for key in (doc.id, meta.get("source_id")):
                if key is not None and str(key) in self._file_scores:
                    return self._file_scores[str(key)]
        if self.column:
            signals = meta.get("quality_signals") or {}
            for value in (meta.get(self.column), signals.get(self.column) if isinstance(signals, dict) else None):
                score = _as_score(value)
                if score is not None:
                    return score
        return None

    def run(self, data: DocumentsPipeline, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        for doc in data:
            with self.track_time():
                score = self.score_of(doc)
                if score is None:
                    doc.metadata.pop("quality", None)  # a non-score value in the column is not a rating
                    self.stat_update("unscored")
                else:
                    doc.metadata["quality"] = score
                    doc.metadata["quality_origin"] = "column"
                    self.stat_update("scored_from_column")
            yield doc


class RequireScore(BaseFilter):
    """Drop records that still have no quality score (reason ``no_score``: the rater failed, or rating is off)."""

    name = "🏷️ Require a quality score"
    step_id = "require_score"
    reads = frozenset({"quality"})

    def filter(self, doc: Document) -> bool | tuple[bool, str]:
        return True if isinstance(doc.metadata.get("quality"), int) else (False, "no_score")


class ParseDistillation(BaseFilter):
    """Parse the distiller's completion into the new sample; unusable ones go to the exclusion writer (the
    rejects file) with ``filter_reason`` (see ``parse.REJECT_REASONS``) and the raw completion."""

    name = "🧩 Parse distillations"
    step_id = "parse_distillations"
    reads = frozenset({"completion"})
    writes = frozenset({"kind", "instruction", "input", "output", "cot"})

    def __init__(self, exclusion_writer=None, strict_format: bool = True) -> None:
        super().__init__(exclusion_writer=exclusion_writer)
        self.strict_format = strict_format

    def filter(self, doc: Document) -> bool | tuple[bool, str]:
        meta = doc.metadata
        try:
            distilled = parse_distillation(
                meta.get("completion"), finish_reason=meta.get("finish_reason"), strict=self.strict_format
            )
        except DistillParseError as error:
            meta["reject_detail"] = str(error)
            return False, error.reason
        meta.update(instruction=distilled.instruction, input="", output=distilled.output, cot=distilled.think)
        meta["kind"] = INSTRUCTION
        doc.text = render_instruction(distilled.instruction, "", distilled.output)
        return True


class RateUnscored(QualityRater):
    """The LLM quality rater for records that have no score yet (records with one pass through unrated)."""

    name = "quality rater (unscored records)"
    step_id = "rate_unscored"

    def format_input(self, doc: Document) -> ChatRequest | None:
        return None if isinstance(doc.metadata.get("quality"), int) else super().format_input(doc)

    def format_output(self, doc: Document, results: list[ChatResult]) -> Iterable[Document]:
        return [doc] if not results else super().format_output(doc, results)
