"""Teacher-written samples: the tagged fields the teacher returns per task, and their rendering.

The teacher answers with tagged fields (``QUESTION: …`` / ``ANSWER: …`` / ``REASONING: …``), which small models
follow far more reliably than an exact layout. The code then renders the fields into the task's pattern:

- ``qa``   ``Q: {question}\\nA: {answer}``
- ``mcq``  ``Q: {question}\\nA) …\\nB) …\\nC) …\\nD) …\\nAnswer: {letter}``
- ``tfq``  ``{statement}\\nAnswer: True|False``
- ``cs``   ``C: {category}\\nS: {statement}``
- ``para`` the paragraph
"""

from __future__ import annotations

import re

from mixture_builder.mixture_format import matches_task_pattern

TASK_FIELDS: dict[str, tuple[str, ...]] = {
    "qa": ("QUESTION", "ANSWER", "REASONING"),
    "mcq": ("QUESTION", "A", "B", "C", "D", "CORRECT", "REASONING"),
    "tfq": ("STATEMENT", "ANSWER", "REASONING"),
    "cs": ("CATEGORY", "STATEMENT", "REASONING"),
    "para": ("PARAGRAPH", "REASONING"),
}
"""The tagged fields the teacher returns per task (``REASONING``, the chain of thought, may be missing: the
build then asks for it in a second request)."""

TASK_NAMES: dict[str, str] = {
    "qa": "question-answer pair",
    "mcq": "multiple-choice question",
    "tfq": "true/false question",
    "cs": "category-statement pair",
    "para": "paragraph",
}

ALIASES: dict[str, dict[str, str]] = {
    "qa": {"Q": "QUESTION", "A": "ANSWER"},
    "mcq": {"ANSWER": "CORRECT", "CORRECT ANSWER": "CORRECT", "Q": "QUESTION"},
    "tfq": {"TRUE OR FALSE": "ANSWER", "CLAIM": "STATEMENT"},
    "cs": {"C": "CATEGORY", "S": "STATEMENT"},
    "para": {},
}
"""Other labels small models use for a field (e.g. the task pattern's own ``Q:``/``A:``)."""

_COMMON_ALIASES = {"EXPLANATION": "REASONING", "REASON": "REASONING"}

_TAG_LINES: dict[str, re.Pattern[str]] = {
    task: re.compile(
        r"^[ \t>*#_-]*(?:\*\*)?("
        + "|".join(re.escape(tag) for tag in sorted({*tags, *ALIASES[task], *_COMMON_ALIASES}, key=len,
                                                     reverse=True))
        + r")(?:\*\*)?\s*[:)]\s*(?:\*\*)?",
        re.IGNORECASE | re.MULTILINE,
    )
    for task, tags in TASK_FIELDS.items()
}
_TRUE_FALSE = re.compile(r"\b(true|false)\b", re.IGNORECASE)
_LETTER = re.compile(r"\b([ABCD])\b")


class SampleParseError(ValueError):
    """The teacher's reply lacks a field or has an invalid value."""


def parse_fields(text: str, task: str) -> dict[str, str]:
    """The task's tagged fields in ``text`` (tags matched case-insensitively at line starts, Markdown bold
    tolerated; a repeated tag keeps its first value). Raises ``SampleParseError`` naming what is missing."""
    wanted = TASK_FIELDS[task]
    aliases = {**_COMMON_ALIASES, **ALIASES[task]}
    matches = list(_TAG_LINES[task].finditer(text))
    fields: dict[str, str] = {}
    for i, match in enumerate(matches):
        tag = " ".join(match.group(1).upper().split())
        tag = tag if tag in wanted else aliases.get(tag, tag)
        end = matches[i + 1].start() if i + 1 < len(matches) else len(text)
        value = text[match.end() : end].strip().strip("*").strip()
        if tag in wanted and tag not in fields and value:
            fields[tag] = value
    if task == "para" and "PARAGRAPH" not in fields:  # a bare paragraph before any label
        head = text[: matches[0].start()] if matches else text
        if len(head.split()) >= 20:
            fields["PARAGRAPH"] = head.strip()
    fields.setdefault("REASONING", "")  # optional: a missing chain of thought is asked for separately
    missing = [tag for tag in wanted if tag not in fields]
    if missing:
        raise SampleParseError(f"missing field(s) {', '.join(missing)} in the {task} reply")
    if task == "tfq":
        match = _TRUE_FALSE.search(fields["ANSWER"])
        if match is None:
            raise SampleParseError("ANSWER of a true/false question must be True or False")
        fields["ANSWER"] = match.group(1).capitalize()
    if task == "mcq":
        match = _LETTER.search(fields["CORRECT"].upper())
        if match is None:
            raise SampleParseError("CORRECT of a multiple-choice question must be one of A, B, C, D")
        fields["CORRECT"] = match.group(1)
    return fields


def render_sample(task: str, fields: dict[str, str]) -> str:
    """The sample in its task's pattern (see the module docstring)."""
    one_line = {key: " ".join(value.split()) for key, value in fields.items()}
    if task == "qa":
        text = f"Q: {one_line['QUESTION']}\nA: {one_line['ANSWER']}"
    elif task == "mcq":
        options = "\n".join(f"{letter}) {one_line[letter]}" for letter in "ABCD")
        text = f"Q: {one_line['QUESTION']}\n{options}\nAnswer: {one_line['CORRECT']}"
    elif task == "tfq":
        text = f"{one_line['STATEMENT']}\nAnswer: {one_line['ANSWER']}"
    elif task == "cs":
        text = f"C: {one_line['CATEGORY']}\nS: {one_line['STATEMENT']}"
    elif task == "para":
        text = fields["PARAGRAPH"].strip()
    else:
        raise ValueError(f"unknown task {task!r}")
    if not matches_task_pattern(task, text):
        raise SampleParseError(f"the rendered {task} sample does not match its task pattern")
    return text


def parse_sample(text: str, task: str) -> tuple[str, str]:
    """``(sample, reasoning)``: the teacher's reply parsed and rendered in the task's pattern."""
    fields = parse_fields(text, task)
    return render_sample(task, fields), " ".join(fields["REASONING"].split())


def clean_variant(text: str, original: str) -> str:
    """A teacher-written low-quality variant, stripped of a leading ``VARIANT:`` tag; raises
    ``SampleParseError`` when it is empty or just repeats the original."""
    variant = re.sub(r"^\s*(?:\*\*)?(?:VARIANT|REWRITTEN SAMPLE|SAMPLE)(?:\*\*)?\s*:\s*", "", text, flags=re.IGNORECASE)
    variant = variant.strip()
    if not variant:
        raise SampleParseError("the degraded variant is empty")
    if " ".join(variant.split()) == " ".join(original.split()):
        raise SampleParseError("the degraded variant repeats the original unchanged")
    return variant
