"""MIXTURE records → TRL conversational prompt-completion rows, with length checks.

The prompt is the LM-Mixup system prompt plus the instruction and the linearised cluster
(``mixture_format.prompt_messages``); TRL applies the base model's chat template. SFT rows get the target
``<think>{cot}</think>\\n\\n<answer>{output}</answer>`` as an assistant message (TRL trains on the completion
only). GRPO rows keep ``output`` and ``task_type`` (and ``id``, ``quality``) as columns for the rewards.
Records longer than the limits are skipped and counted, never truncated.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from mixture_builder.errors import InputError
from mixture_builder.mixture_format import TASK_TYPES, format_completion, prompt_messages

REQUIRED = ("task_type", "instruction", "input", "output")
GRPO_COLUMNS = ("id", "task_type", "output", "quality")
"""Dataset columns the GRPO rewards read (others are dropped)."""


@dataclass
class FormatReport:
    """What formatting kept and skipped (per reason)."""

    kept: int = 0
    skipped: Counter = field(default_factory=Counter)

    def as_dict(self) -> dict[str, Any]:
        return {"kept": self.kept, "skipped": dict(self.skipped)}


def check_record(row: dict[str, Any], index: int, where: str, *, needs_cot: bool) -> None:
    """Raise :class:`InputError` (reason = the fix's category) if a MIXTURE record can't be trained on."""
    for name in REQUIRED + (("cot",) if needs_cot else ()):
        value = row.get(name)
        if not isinstance(value, str) or not value.strip():
            raise InputError("empty or missing", path=where, record=index, field=name, reason=f"missing_{name}")
    if row["task_type"] not in TASK_TYPES:
        raise InputError(
            f"unknown task type {row['task_type']!r}",
            path=where,
            record=index,
            field="task_type",
            fix=f"use one of {', '.join(TASK_TYPES)}",
            reason="unknown_task_type",
        )


def sft_row(row: dict[str, Any]) -> dict[str, Any]:
    """Conversational prompt-completion row for SFT."""
    return {
        "prompt": prompt_messages(row["input"], row["instruction"]),
        "completion": [{"role": "assistant", "content": format_completion(row["cot"], row["output"])}],
    }


def grpo_row(row: dict[str, Any]) -> dict[str, Any]:
    """Conversational prompt row for GRPO, with the reward columns."""
    out = {"prompt": prompt_messages(row["input"], row["instruction"])}
    out.update({name: row.get(name) for name in GRPO_COLUMNS})
    return out


def _token_count(tokenizer: Any, messages: list[dict[str, str]], add_generation_prompt: bool) -> int:
    encoded = tokenizer.apply_chat_template(
        messages, tokenize=True, return_dict=True, add_generation_prompt=add_generation_prompt
    )
    return len(encoded["input_ids"])


def _format(
    record: dict[str, Any],
    index: int,
    *,
    tokenizer: Any,
    kind: str,
    max_length: int | None,
    max_prompt_length: int | None,
    on_error: str,
    where: str,
) -> dict[str, Any]:
    """One formatted row with ``_skip`` = the reason it is dropped ("" when kept)."""
    empty = {"prompt": [], "completion": []} if kind == "sft" else {"prompt": [], **dict.fromkeys(GRPO_COLUMNS)}
    try:
        check_record(record, index, where, needs_cot=kind == "sft")
    except InputError as error:
        if on_error != "skip":
            raise
        return {**empty, "_skip": error.reason}
    row = sft_row(record) if kind == "sft" else grpo_row(record)
    if max_prompt_length is not None and _token_count(tokenizer, row["prompt"], True) > max_prompt_length:
        return {**empty, "_skip": "prompt_too_long"}
    if (
        kind == "sft"
        and max_length is not None
        and _token_count(tokenizer, row["prompt"] + row["completion"], False) > max_length
    ):
        return {**empty, "_skip": "too_long"}
    return {**row, "_skip": ""}


def _features(kind: str) -> Any:
    """Explicit output schema (a batch of skipped rows alone would otherwise infer null types)."""
    from datasets import Features, List, Value

    messages = List({"role": Value("string"), "content": Value("string")})
    columns = {"prompt": messages}
    if kind == "sft":
        columns["completion"] = messages
    else:
        columns.update({"id": Value("string"), "task_type": Value("string"), "output": Value("string"),
                        "quality": Value("int64")})  # fmt: skip
    return Features({**columns, "_skip": Value("string")})


def prepare(
    dataset: Any,
    tokenizer: Any,
    *,
    kind: str,
    max_length: int | None = None,
    max_prompt_length: int | None = None,
    on_error: str = "raise",
    where: str = "MIXTURE",
    num_proc: int | None = None,
) -> tuple[Any, FormatReport]:
    """Format a MIXTURE split (a ``datasets.Dataset``) for ``kind`` ``"sft"`` or ``"grpo"``; skip (and count)
    records whose prompt is longer than ``max_prompt_length`` tokens or whose prompt + completion is longer
    than ``max_length`` (SFT only). Invalid records raise :class:`InputError`, or are skipped and counted with
    ``on_error="skip"``. ``num_proc`` formats in parallel (``datasets.map``).
    """
    if kind not in ("sft", "grpo"):
        raise ValueError(f"kind must be 'sft' or 'grpo', got {kind!r}")
    kwargs = {"tokenizer": tokenizer, "kind": kind, "max_length": max_length,
              "max_prompt_length": max_prompt_length, "on_error": on_error, "where": where}  # fmt: skip
    formatted = dataset.map(
        _format, fn_kwargs=kwargs, with_indices=True, remove_columns=dataset.column_names, num_proc=num_proc,
        features=_features(kind), desc=f"Formatting {where} for {kind}",
    )
    report = FormatReport(skipped=Counter(reason for reason in formatted["_skip"] if reason))
    kept = formatted.filter(lambda reason: reason == "", input_columns="_skip").remove_columns("_skip")
    report.kept = len(kept)
    if not report.kept:
        raise InputError(
            f"no trainable records left ({dict(report.skipped)})",
            path=where,
            fix="raise max_length / max_prompt_length or check the dataset",
        )
    return kept, report
