"""What every reward shares: the completion's text (plain or conversational) and its parsed answer."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from mixture_builder.mixture_format import ParsedCompletion, parse_completion

Completion = str | list[dict[str, Any]]
"""A TRL completion: plain text, or a list of chat messages (the assistant's turn)."""


def completion_text(completion: Completion) -> str:
    """The generated text: a string as is; for messages, the content of the last assistant message."""
    if isinstance(completion, str):
        return completion
    for message in reversed(completion):
        if message.get("role", "assistant") == "assistant":
            content = message.get("content", "")
            if isinstance(content, list):  # content blocks
                return "".join(part.get("text", "") for part in content if part.get("type") == "text")
            return content or ""
    return ""


def parse_all(completions: Sequence[Completion]) -> list[ParsedCompletion | None]:
    """Parse every completion; ``None`` where the ``<think>``/``<answer>`` format is broken."""
    return [parse_completion(completion_text(c)) for c in completions]


def broadcast(column: Sequence[Any] | Any, n: int, name: str) -> list[Any]:
    """A dataset column TRL passes per completion; a scalar is repeated (handy in direct calls)."""
    if isinstance(column, (str, bytes)) or not isinstance(column, Sequence):
        return [column] * n
    if len(column) != n:
        raise ValueError(f"reward column '{name}' has {len(column)} values for {n} completions")
    return list(column)
