"""Turn a distiller completion back into an instruction/output pair.

The distiller answers ``<think>…</think><answer>Q: {instruction}\\n A: {output}</answer>`` — the cluster's
own item format (``mixture_format.format_qa_item``). Anything else is rejected with one reason from
``REJECT_REASONS``; the caller counts it and keeps the raw text in a rejects file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from mixture_builder.mixture_format import ParsedCompletion, format_qa_item, linearise, parse_completion

REJECT_REASONS: tuple[str, ...] = (
    "request_failed",  # the distiller returned no text (error after retries)
    "truncated",  # generation hit the token limit
    "bad_format",  # not exactly <think>…</think><answer>…</answer>
    "not_qa",  # the answer is not a `Q: … A: …` item
    "empty_instruction",
    "empty_output",
)

_ANSWER = re.compile(r"<answer>(.*?)</answer>", re.DOTALL)
_THINK = re.compile(r"<think>(.*?)</think>", re.DOTALL)
_QA = re.compile(r"\A\s*Q:\s*(?P<q>.*?)\s*(?:\n|\s)A:\s*(?P<a>.*)\Z", re.DOTALL)


@dataclass(frozen=True)
class Distilled:
    """A parsed distillation: the new sample and the distiller's reasoning."""

    instruction: str
    output: str
    think: str


class DistillParseError(ValueError):
    """A completion that cannot be used; ``reason`` is one of ``REJECT_REASONS``."""

    def __init__(self, reason: str, detail: str) -> None:
        self.reason = reason
        super().__init__(f"{reason}: {detail}")


def cluster_items(pairs: list[tuple[str, str]]) -> list[str]:
    """The cluster's ``Q: … A: …`` items from ``(prompt, answer)`` pairs."""
    return [format_qa_item(prompt, answer) for prompt, answer in pairs]


def linearise_cluster(pairs: list[tuple[str, str]]) -> str:
    """The distiller's input for a cluster: its items separated by blank lines."""
    return linearise(cluster_items(pairs))


def sample_prompt(instruction: str, input: str) -> str:
    """An instruction sample's prompt as one text: the instruction, then its input on the next line."""
    return f"{instruction.strip()}\n{input.strip()}" if input.strip() else instruction.strip()


def parse_distillation(
    text: str | None, *, finish_reason: str | None = None, strict: bool = True
) -> Distilled:
    """Parse a completion; raise ``DistillParseError`` with the reason when it is unusable.

    ``strict`` requires exactly ``<think>…</think><answer>…</answer>`` with nothing outside (the LM-Mixup
    format); otherwise one ``<answer>…</answer>`` anywhere is enough (for general teachers).
    """
    if text is None or not text.strip():
        raise DistillParseError("request_failed", "no completion text")
    if finish_reason == "length":
        raise DistillParseError("truncated", "the completion hit the token limit")
    parsed = parse_completion(text) if strict else _loose_completion(text)
    if parsed is None:
        expected = "<think>…</think> then <answer>…</answer>, nothing outside" if strict else "one <answer>…</answer>"
        raise DistillParseError("bad_format", f"expected {expected}")
    match = _QA.match(parsed.answer)
    if match is None:
        raise DistillParseError("not_qa", "the answer is not a 'Q: … A: …' item")
    instruction, output = match.group("q").strip(), match.group("a").strip()
    if not instruction:
        raise DistillParseError("empty_instruction", "the answer's Q: is empty")
    if not output:
        raise DistillParseError("empty_output", "the answer's A: is empty")
    return Distilled(instruction=instruction, output=output, think=parsed.think)


def _loose_completion(text: str) -> ParsedCompletion | None:
    answers = _ANSWER.findall(text)
    if len(answers) != 1:
        return None
    think = _THINK.search(text)
    return ParsedCompletion(think=think.group(1).strip() if think else "", answer=answers[0].strip())
