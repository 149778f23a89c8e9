"""The quality rater of the paper (DESIGN.md §1): rarity, complexity, informativeness and overall on 1–10,
JSON only; ``compress_score`` maps overall to 0–5 (clip to [4, 9] minus 4); ≥ 4 is high quality.

``QualityRater`` writes ``metadata["quality"]`` (0–5) and ``metadata["quality_details"]`` into each document
and ``metadata["quality_rater"]`` (model and template version). It rates instruction samples (metadata
``instruction``/``input``/``output``, see ``records.py``) and MIXTURE targets of every task type (metadata
``task_type``; the prompt then says what a good sample of that kind looks like). ``QualityFilter`` keeps
documents at or above the threshold and counts the rest.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from datatrove.data import Document
from datatrove.pipeline.filters.base_filter import BaseFilter

from mixture_builder.errors import ConfigError, InputError
from mixture_builder.mixture_format import TASKS, task_of
from mixture_builder.readers import read_records
from mixture_builder.records import instruction_fields
from mixture_builder.teacher.config import TeacherConfig
from mixture_builder.teacher.estimate import estimate
from mixture_builder.teacher.steps import TeacherStep
from mixture_builder.teacher.templates import PromptTemplate, load_template
from mixture_builder.teacher.types import ChatRequest, ChatResult

RATE_TEMPLATE = "mixture_builder.teacher:rate_quality"
HIGH_QUALITY = 4
TASK_HINTS: dict[str, tuple[str, str]] = {
    "qa": ("question-answer sample",
           "A good sample is one clear question ('Q: ...') with a correct, complete answer ('A: ...')."),
    "mcq": ("multiple-choice question",
            ("A good sample has a clear question, four distinct options A) B) C) D), exactly one correct, and "
            "'Answer: <letter>'.")),
    "tfq": ("true/false statement",
            ("A good sample is one unambiguous statement followed by 'Answer: True' or 'Answer: False', and the "
            "answer is correct.")),
    "cs": ("category-statement pair",
           ("A good sample names a precise category ('C: ...') and a correct, informative statement about it "
           "('S: ...').")),
    "para": ("paragraph", "A good sample is one coherent, factual, well-written paragraph without repetition."),
}


def compress_score(overall: float, low: int = 4, high: int = 9) -> int:
    """The paper's 0–5 score: ``clip(overall, low, high) - low`` (overall 1–10 → 0–5)."""
    return round(min(max(float(overall), low), high) - low)


def rating_request(template: PromptTemplate, *, instruction: str, output: str, input: str = "",
                   task: str | None = None, params: dict[str, Any] | None = None) -> ChatRequest:
    """The rating request of one sample (``task``: a task kind or MIXTURE task type, for its hint)."""
    kind, hint = ("instruction-response sample", "")
    if task:
        kind, hint = TASK_HINTS[task_of(task)]
    return template.request(params=params, instruction=instruction, input=input, output=output, kind=kind,
                            hint=hint)


class QualityRater(TeacherStep):
    """Rate each document with the teacher (see the module docstring).

    ``on_parse_error``: ``"drop"`` counts ``dropped_rate_parse_error`` (and ``dropped_rate_teacher_error`` for
    requests that failed), ``"keep"`` keeps the document with ``quality=None`` and counts ``unrated_<reason>``.
    """

    name = "quality rater"
    step_id = "rate"

    writes = frozenset({"quality", "quality_details", "quality_rater"})

    def __init__(self, teacher: TeacherConfig | dict[str, Any] | None = None, *, template: str = RATE_TEMPLATE,
                 on_parse_error: str = "drop", task_key: str = "task_type", max_tokens: int = 96,
                 text_only: bool = False) -> None:
        super().__init__(teacher)
        if on_parse_error not in ("drop", "keep"):
            raise ConfigError(f"on_parse_error must be 'drop' or 'keep', got {on_parse_error!r}",
                              field="on_parse_error", fix="use drop or keep")
        self.template = load_template(template)
        self.on_parse_error = on_parse_error
        self.task_key = task_key
        self.max_tokens = max_tokens
        self.text_only = text_only
        self.reads = frozenset() if text_only else frozenset({"instruction", "output"})

    def format_input(self, doc: Document) -> ChatRequest:
        if self.text_only:  # the document's text is the sample (e.g. a MIXTURE target in its task's pattern)
            instruction, input_, output = "", "", doc.text
        else:
            instruction, input_, output = instruction_fields(doc)
            if not (instruction or output):
                raise InputError(f"record {doc.id!r} has no instruction and no output to rate",
                                 field="instruction", fix="rate plain text with text_only=True (CLI: --plain-text)")
        task = doc.metadata.get(self.task_key)
        task = task if isinstance(task, str) and task.removesuffix("_mixup") in TASKS else None
        return rating_request(self.template, instruction=instruction, input=input_, output=output, task=task,
                              params={"max_tokens": self.max_tokens})

    def format_output(self, doc: Document, results: list[ChatResult]) -> Iterable[Document]:
        result = results[0]
        reason = "teacher_error" if result.error else "parse_error" if result.parsed is None else None
        if reason is not None:
            if self.on_parse_error == "drop":
                return self.drop(doc, f"rate_{reason}")
            self.stat_update(f"unrated_{reason}")
            doc.metadata.update(quality=None, quality_details=None,
                                quality_error=result.error or result.parse_error, quality_raw=result.text)
            return [doc]
        details = {key: int(result.parsed[key]) for key in ("rarity", "complexity", "informativeness", "overall")}
        doc.metadata["quality"] = compress_score(details["overall"])
        doc.metadata["quality_details"] = details
        doc.metadata["quality_rater"] = f"{self.teacher_config.model_id}|{self.template.id}"
        self.stat_update(f"quality_{doc.metadata['quality']}")
        return [doc]


class QualityFilter(BaseFilter):
    """Keep documents with ``metadata["quality"] >= threshold``; counts ``dropped_low_quality`` and
    ``dropped_unrated`` (unless ``keep_unrated``)."""

    name = "quality filter"
    step_id = "quality_filter"
    reads = frozenset({"quality"})

    def __init__(self, threshold: int = HIGH_QUALITY, *, keep_unrated: bool = False, exclusion_writer: Any = None):
        super().__init__(exclusion_writer)
        if not 0 <= threshold <= 5:
            raise ConfigError(f"threshold must be within 0-5, got {threshold}", field="threshold",
                              fix="use the compressed 0-5 scale (the paper keeps >= 4)")
        self.threshold = threshold
        self.keep_unrated = keep_unrated

    def filter(self, doc: Document) -> bool | tuple[bool, str]:
        quality = doc.metadata.get("quality")
        if quality is None:
            return True if self.keep_unrated else (False, "unrated")
        return True if quality >= self.threshold else (False, "low_quality")


def rate_records(input: str, output: str | Path, config: TeacherConfig, *, threshold: int | None = None,
                 limit: int | None = None, dry_run: bool = False, text_only: bool = False) -> dict[str, Any]:
    """Rate the instruction records of ``input`` (any reader format; with ``text_only`` each record's text) into a
    JSONL file; with ``dry_run`` only estimate the calls, tokens and cost. Returns a summary (counts, scores,
    teacher accounting)."""
    rater = QualityRater(config, on_parse_error="keep", text_only=text_only)
    docs = read_records(input, limit=limit)
    if dry_run:
        return {"dry_run": estimate(docs, config, step=rater).as_dict()}
    stream = rater.run(docs)
    if threshold is not None:
        stream = QualityFilter(threshold).run(stream)
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    histogram: dict[str, int] = {}
    written = 0
    with output.open("w", encoding="utf-8") as sink:
        for doc in stream:
            meta = doc.metadata
            histogram[str(meta.get("quality"))] = histogram.get(str(meta.get("quality")), 0) + 1
            row = {"id": doc.id, **{k: meta.get(k) for k in ("instruction", "input", "output", "source")},
                   "quality": meta.get("quality"), "quality_details": meta.get("quality_details")}
            sink.write(json.dumps(row, ensure_ascii=False) + "\n")
            written += 1
    stats = {k: (v.total if hasattr(v, "total") else v) for k, v in rater.stats.stats.items()}
    return {"output": str(output), "written": written, "quality_histogram": histogram, "rater_stats": stats}
