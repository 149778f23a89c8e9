"""Reply layouts for format-guided generation: the shape a completion must take, as forced text, free text and
choices, rendered for each backend that controls decoding.

A ``Layout`` is a sequence of segments:

- ``Lit(text)``: forced text (``"<think>"``, ``"\\n A: "``, ``"CORRECT: "``);
- ``Free(stop, budget)``: text the model writes, ended by the model writing ``stop`` (``"</think>"``, a newline);
  it never contains ``stop``'s first character (nor ``banned`` ones) and holds at least one non-blank
  character; after ``budget`` tokens ``stop`` is forced;
- ``Choice(options)``: exactly one of ``options`` (``"A"``…``"D"``, ``"True"``/``"False"``).

The same layout drives the embedded model and transformers checkpoints (``guided_layout.LayoutLogitsProcessor``,
which also forces the close early enough that the reply always ends inside ``max_tokens``) and vLLM/SGLang
(``regex()``, sent in their structured-output request fields by ``guided_params``). Regex engines cannot count
tokens, so there a budget becomes a bound of ``CHARS_PER_TOKEN`` characters per token.

``think_answer_layout`` is the LM-Mixup reply ``<think>…</think>\\n\\n<answer>…</answer>`` with the answer in a
MIXTURE task's pattern (``mixture_format``); ``field_layout`` is a reply of labelled lines (the build's
``QUESTION: …`` replies, rendered into the task patterns by ``generate.samples``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from mixture_builder.errors import ConfigError
from mixture_builder.mixture_format import TASKS
from mixture_builder.teacher.config import TeacherConfig

CHARS_PER_TOKEN = 4
PAYLOAD_KEY = "guided_layout"
"""The request field the embedded backend reads its layout from (HTTP backends get a regex instead)."""


@dataclass(frozen=True)
class Lit:
    """Forced text."""

    text: str


@dataclass(frozen=True)
class Free:
    """Model-written text ended by ``stop``; at most ``budget`` tokens (``None``: only ``max_tokens`` bounds it)."""

    stop: str
    budget: int | None = None
    banned: str = ""

    @property
    def excluded(self) -> str:
        """Characters the text may not contain (``stop``'s first one starts the stop)."""
        return "".join(dict.fromkeys(self.stop[0] + self.banned))


@dataclass(frozen=True)
class Choice:
    """One of ``options`` (no option may be a prefix of another)."""

    options: tuple[str, ...]


Segment = Lit | Free | Choice
_KINDS = {"lit": Lit, "free": Free, "choice": Choice}


@dataclass(frozen=True)
class Layout:
    """A reply layout (see the module docstring); ``name`` labels it in provenance."""

    name: str
    segments: tuple[Segment, ...]

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able form (the embedded backend's request field; part of the cache key)."""
        items = []
        for segment in self.segments:
            kind = next(k for k, cls in _KINDS.items() if isinstance(segment, cls))
            items.append({"kind": kind, **{k: list(v) if isinstance(v, tuple) else v
                                           for k, v in segment.__dict__.items()}})
        return {"name": self.name, "segments": items}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Layout:
        segments: list[Segment] = []
        for item in data["segments"]:
            fields = {k: tuple(v) if isinstance(v, list) else v for k, v in item.items() if k != "kind"}
            segments.append(_KINDS[item["kind"]](**fields))
        return cls(name=data["name"], segments=tuple(segments))

    def regex(self, chars_per_token: int | None = CHARS_PER_TOKEN) -> str:
        """A regex matching exactly the replies of this layout (budgets as character bounds, or unbounded
        when ``chars_per_token`` is ``None``); written with plain escapes and classes every engine reads."""
        parts = []
        for segment in self.segments:
            if isinstance(segment, Lit):
                parts.append(_escape(segment.text))
            elif isinstance(segment, Choice):
                parts.append("(" + "|".join(_escape(o) for o in segment.options) + ")")
            else:
                excluded = segment.excluded
                blank = _escape_class("".join(c for c in " \t\n" if c not in excluded))
                body = _escape_class(excluded)
                bound = "*" if segment.budget is None or chars_per_token is None else \
                    f"{{0,{segment.budget * chars_per_token}}}"
                head = f"[{blank}]*" if blank else ""
                first = _escape_class("".join(dict.fromkeys(excluded + " \t\n\r")))
                parts.append(f"{head}[^{first}][^{body}]{bound}{_escape(segment.stop)}")
        return "".join(parts)


def _escape(text: str) -> str:
    out = []
    for char in text:
        if char == "\n":
            out.append("\\n")
        elif char == "\t":
            out.append("\\t")
        elif char in r".^$*+?{}[]\|()":
            out.append("\\" + char)
        else:
            out.append(char)
    return "".join(out)


def _escape_class(chars: str) -> str:
    return "".join({"\n": "\\n", "\t": "\\t", "\r": "\\r"}.get(c, "\\" + c if c in r"\]^-[" else c) for c in chars)


# ---------------------------------------------------------------------------------------------- task layouts
def _line(label: str, budget: int | None = None) -> list[Segment]:
    return [Lit(label), Free("\n", budget, banned="<")]


def answer_segments(task: str) -> list[Segment]:
    """The segments of a MIXTURE task's answer pattern (``mixture_format.matches_task_pattern``)."""
    if task == "qa":
        return [Lit("Q: "), Free("\n", banned="<"), Lit(" A: "), Free("</answer>")]
    if task == "mcq":
        options = [seg for letter in "ABC" for seg in _line(f"{letter}) ")]
        return [*_line("Q: "), *options, Lit("D) "), Free("\n", banned="<"), Lit("Answer: "),
                Choice(tuple("ABCD")), Lit("</answer>")]
    if task == "tfq":
        return [Free("\n", banned="<"), Lit("Answer: "), Choice(("True", "False")), Lit("</answer>")]
    if task == "cs":
        return [*_line("C: "), Lit("S: "), Free("</answer>")]
    if task == "para":
        return [Free("</answer>")]
    raise ConfigError(f"unknown task {task!r}", fix=f"use one of {', '.join(TASKS)}")


def think_answer_layout(task: str = "qa", *, think_budget: int | None = None) -> Layout:
    """``<think>…</think>\\n\\n<answer>{task pattern}</answer>``, the reasoning closed after ``think_budget``
    tokens."""
    return Layout(name=f"think_answer_{task}",
                  segments=(Lit("<think>"), Free("</think>", think_budget), Lit("\n\n<answer>"),
                            *answer_segments(task)))


def field_layout(name: str, lines: Sequence[tuple[str, tuple[str, ...] | None, int | None]]) -> Layout:
    """Labelled lines, one per ``(label, options, budget)``: the label (``"QUESTION: "``, ``"A) "``), then
    free text of at most ``budget`` tokens, or one of ``options``; each line ends with a newline."""
    segments: list[Segment] = []
    for label, options, budget in lines:
        if options is None:
            segments += _line(label, budget)
        else:
            segments += [Lit(label), Choice(tuple(options)), Lit("\n")]
    return Layout(name=name, segments=tuple(segments))


# ---------------------------------------------------------------------------------------------- request fields
def guided_params(config: TeacherConfig, layout: Layout) -> dict[str, Any]:
    """Request parameters that make ``config``'s backend follow ``layout``: the layout itself for the embedded
    model, ``structured_outputs.regex`` for vLLM, ``regex`` for SGLang, nothing when guidance is off."""
    mode = config.resolved_guided
    if mode == "off":
        return {}
    if mode == "local":
        return {PAYLOAD_KEY: layout.to_dict()}
    if mode == "vllm":
        return {"structured_outputs": {"regex": layout.regex()}}
    return {"regex": layout.regex()}
