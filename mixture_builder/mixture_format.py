"""The MIXTURE record format and the LM-Mixup answer format, shared by build, train and distill.

A MIXTURE record pairs a cluster of 2–20 low-quality samples (``inputs``, linearised into ``input``) with one
high-quality target (``output``, with its chain of thought ``cot``). LM-Mixup answers
``<think>{cot}</think>\n\n<answer>{output}</answer>`` and nothing outside the two tags.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

TASKS: tuple[str, ...] = ("qa", "mcq", "tfq", "cs", "para")
"""Task kinds: question–answer, multiple choice, true/false, category–statement, paragraph."""

TASK_TYPES: tuple[str, ...] = tuple(f"{task}_mixup" for task in TASKS)
"""The ``task_type`` values of MIXTURE records."""

MIXTURE_FIELDS: tuple[str, ...] = (
    "id",
    "task_type",
    "instruction",
    "input",
    "output",
    "cot",
    "source",
    "inputs",
    "degradations",
    "source_ids",
    "quality",
    "teacher",
    "license",
)
"""Columns of a MIXTURE record: the paper's fields, then provenance."""

SYSTEM_PROMPT = (
    "You are LM-Mixup, an instruction distillation model. You are given several low-quality or redundant "
    "instruction samples on related content. Merge their content into one coherent, correct, high-quality "
    "sample that keeps the shared format. First reason step by step inside <think></think>, then give only "
    "the final sample inside <answer></answer>. Write nothing outside these two tags."
)
"""System prompt of the LM-Mixup model (training and distillation)."""

MIXTURE_INSTRUCTION = (
    "Merge the following samples into one high-quality sample of the same kind. "
    "Fix errors, remove repetition and keep the most informative content."
)
"""The ``instruction`` field of MIXTURE records."""

_TASK_PATTERNS: dict[str, re.Pattern[str]] = {
    "qa": re.compile(r"^\s*Q:\s*\S.*?\s*A:\s*\S", re.DOTALL),
    "mcq": re.compile(
        r"^\s*Q:\s*\S.*?A\)\s*\S.*?B\)\s*\S.*?C\)\s*\S.*?D\)\s*\S.*?Answer:\s*\S", re.DOTALL
    ),
    "tfq": re.compile(r"\S.*?Answer:\s*(True|False)\b", re.DOTALL | re.IGNORECASE),
    "cs": re.compile(r"^\s*C:\s*\S.*?\s*S:\s*\S", re.DOTALL),
}

_COMPLETION = re.compile(r"\A\s*<think>(?P<think>.*?)</think>\s*<answer>(?P<answer>.*?)</answer>\s*\Z", re.DOTALL)


def task_of(task_type: str) -> str:
    """``"mcq_mixup"`` → ``"mcq"``; a bare task name is returned unchanged."""
    task = task_type.removesuffix("_mixup")
    if task not in TASKS:
        raise ValueError(f"unknown task type {task_type!r}; expected one of {', '.join(TASK_TYPES)}")
    return task


def matches_task_pattern(task_type: str, text: str) -> bool:
    """Whether ``text`` follows its task's pattern (QA ``Q: … A: …``, MCQ ``Q: … A) … D) … Answer: …``,
    TFQ ``… Answer: True/False``, CS ``C: … S: …``; any non-empty paragraph)."""
    task = task_of(task_type)
    if not text.strip():
        return False
    pattern = _TASK_PATTERNS.get(task)
    return True if pattern is None else bool(pattern.search(text))


def format_qa_item(prompt: str, answer: str) -> str:
    """One instruction sample as a cluster item: ``Q: {prompt}\\n A: {answer}``."""
    return f"Q: {prompt.strip()}\n A: {answer.strip()}"


def linearise(inputs: list[str]) -> str:
    """A cluster's items as one model input: the items, stripped, separated by blank lines."""
    return "\n\n".join(item.strip() for item in inputs)


def format_completion(cot: str, output: str) -> str:
    """The SFT target: ``<think>{cot}</think>\\n\\n<answer>{output}</answer>``."""
    return f"<think>{cot.strip()}</think>\n\n<answer>{output.strip()}</answer>"


@dataclass(frozen=True)
class ParsedCompletion:
    """A completion split into its reasoning and its answer."""

    think: str
    answer: str


def parse_completion(text: str) -> ParsedCompletion | None:
    """Split ``<think>…</think><answer>…</answer>``; ``None`` when anything else is outside the tags or a
    tag is missing, repeated or unclosed."""
    match = _COMPLETION.match(text)
    if match is None:
        return None
    think, answer = match.group("think"), match.group("answer")
    if any(tag in think + answer for tag in ("<think>", "</think>", "<answer>", "</answer>")):
        return None
    return ParsedCompletion(think=think.strip(), answer=answer.strip())


def prompt_messages(linearised_input: str, instruction: str = MIXTURE_INSTRUCTION) -> list[dict[str, str]]:
    """Chat messages LM-Mixup sees: the system prompt, then the instruction and the linearised cluster."""
    return [
        {"role": "system", "content": SYSTEM_PROMPT},
        {"role": "user", "content": f"{instruction}\n\n{linearised_input}"},
    ]
