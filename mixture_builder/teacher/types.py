"""Requests to and results from the teacher LLM."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mixture_builder.teacher.templates import PromptTemplate


@dataclass
class ChatRequest:
    """One chat completion to make.

    ``params`` are generation parameters (``temperature``, ``max_tokens``, ``response_format``, …) that
    override the config's; ``tag`` labels the request in logs and failure records (e.g. the template name).
    ``template``, when set, parses the reply (``ChatResult.parsed``) and drives one repair attempt on a parse
    failure; it is not part of the cache key (the rendered messages already carry its version).
    """

    messages: list[dict[str, Any]]
    params: dict[str, Any] = field(default_factory=dict)
    tag: str = ""
    template: PromptTemplate | None = field(default=None, repr=False, compare=False)


@dataclass
class ChatResult:
    """The outcome of one request; ``error`` is set (and ``text`` may be ``None``) when it failed.

    ``parsed``/``parse_error`` are filled when the request had a template: ``parsed`` is the validated
    output, ``parse_error`` the reason it could not be parsed even after one repair attempt.
    """

    text: str | None
    finish_reason: str | None
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached: bool = False
    error: str | None = None
    parsed: dict[str, Any] | None = None
    parse_error: str | None = None
    repaired: bool = False

    @property
    def ok(self) -> bool:
        """A reply came back (it may still have failed to parse)."""
        return self.error is None and self.text is not None


class TransientError(Exception):
    """A failure worth retrying (429, 5xx, timeout, dropped connection, malformed body)."""

    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after


class PermanentError(Exception):
    """A failure retrying cannot fix (400, 401, 404, …)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
