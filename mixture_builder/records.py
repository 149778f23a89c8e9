"""Canonical raw records, as datatrove ``Document``s.

Two kinds of raw record flow into the pipelines; every reader produces one of them.

**Passage** (Wikipedia-like text, input of the MIXTURE build)::

    Document(text=<passage text>, id=<doc_id>,
             metadata={"kind": "passage", "title": str, "source": str, "license": str, "doc_id": str})

**Instruction sample** (input of distillation; also what the teacher writes)::

    Document(text=<render_instruction(...)>, id=<source>/<source_id>,
             metadata={"kind": "instruction", "instruction": str, "input": str, "output": str,
                       "source": str, "license": str, "source_id": str,
                       "messages": [{"role": ..., "content": ...}, ...],   # multi-turn sources only
                       "quality_signals": {...}})                            # e.g. OASST1 human labels

``text`` of an instruction sample is the canonical rendering used by text-based steps (dedup, embedding):
the instruction, the input (if any) and the output separated by blank lines.
"""

from __future__ import annotations

from typing import Any

from datatrove.data import Document

PASSAGE = "passage"
INSTRUCTION = "instruction"
PASSAGE_KEYS = frozenset({"kind", "title", "source", "license", "doc_id"})
"""Metadata every passage record carries."""
INSTRUCTION_KEYS = frozenset({"kind", "instruction", "input", "output", "source", "license", "source_id"})
"""Metadata every instruction-sample record carries."""


def render_instruction(instruction: str, input: str, output: str) -> str:
    """The canonical text of an instruction sample: instruction, input, output, blank-line separated."""
    return "\n\n".join(part for part in (instruction.strip(), input.strip(), output.strip()) if part)


def make_passage(text: str, *, title: str, source: str, license: str, doc_id: str, **extra: Any) -> Document:
    """A passage record (see the module docstring)."""
    metadata = {"kind": PASSAGE, "title": title, "source": source, "license": license, "doc_id": doc_id}
    metadata.update(extra)
    return Document(text=text, id=doc_id, metadata=metadata)


def make_instruction(
    *,
    instruction: str,
    output: str,
    source: str,
    license: str,
    source_id: str | int,
    input: str = "",
    messages: list[dict[str, str]] | None = None,
    quality_signals: dict[str, Any] | None = None,
    **extra: Any,
) -> Document:
    """An instruction-sample record (see the module docstring)."""
    metadata: dict[str, Any] = {
        "kind": INSTRUCTION,
        "instruction": instruction,
        "input": input,
        "output": output,
        "source": source,
        "license": license,
        "source_id": str(source_id),
    }
    if messages is not None:
        metadata["messages"] = messages
    if quality_signals:
        metadata["quality_signals"] = quality_signals
    metadata.update(extra)
    return Document(
        text=render_instruction(instruction, input, output), id=f"{source}/{source_id}", metadata=metadata
    )


def instruction_fields(doc: Document) -> tuple[str, str, str]:
    """``(instruction, input, output)`` of an instruction-sample document."""
    meta = doc.metadata
    return meta.get("instruction", ""), meta.get("input", ""), meta.get("output", "")
