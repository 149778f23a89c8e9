"""Parsing distiller completions, ranking and merging, output rows."""

from __future__ import annotations

import pytest

from mixture_builder.distill.config import MergeConfig
from mixture_builder.distill.parse import (
    DistillParseError,
    linearise_cluster,
    parse_distillation,
    sample_prompt,
)
from mixture_builder.distill.select import chat_messages, merge_counts, rank, select
from mixture_builder.mixture_format import format_completion


def test_parse_roundtrip_of_the_lm_mixup_format():
    text = format_completion("Both ask for the capital.", "Q: What is the capital of Australia?\n A: Canberra.")
    parsed = parse_distillation(text)
    assert (parsed.instruction, parsed.output) == ("What is the capital of Australia?", "Canberra.")
    assert parsed.think == "Both ask for the capital."


@pytest.mark.parametrize(
    ("text", "finish", "strict", "reason"),
    [
        (None, None, True, "request_failed"),
        ("<think>x</think><answer>Q: a\n A: b</answer>", "length", True, "truncated"),
        ("Sure! <think>x</think><answer>Q: a\n A: b</answer>", None, True, "bad_format"),
        ("no tags at all", None, False, "bad_format"),
        ("<think>x</think><answer>Just prose, no item.</answer>", None, True, "not_qa"),
        ("<think>x</think><answer>Q:\n A: b</answer>", None, True, "empty_instruction"),
        ("<think>x</think><answer>Q: a\n A:   </answer>", None, True, "empty_output"),
    ],
)
def test_parse_rejects_with_a_reason(text, finish, strict, reason):
    with pytest.raises(DistillParseError) as error:
        parse_distillation(text, finish_reason=finish, strict=strict)
    assert error.value.reason == reason


def test_lenient_parse_accepts_text_around_one_answer():
    parsed = parse_distillation("Sure! <answer>Q: a question\n A: an answer</answer> Done.", strict=False)
    assert (parsed.instruction, parsed.output, parsed.think) == ("a question", "an answer", "")


def test_linearised_cluster_is_the_paper_format():
    text = linearise_cluster([(sample_prompt("Add the fractions.", "1/3 + 1/4"), "7/12"), ("Hi?", "Hello.")])
    assert text == "Q: Add the fractions.\n1/3 + 1/4\n A: 7/12\n\nQ: Hi?\n A: Hello."


def _rows(prefix, qualities):
    return [{"id": f"{prefix}{i}", "quality": q, "long_tail": i / 10} for i, q in enumerate(qualities)]


def test_rank_by_quality_then_long_tail():
    ranked = rank(_rows("r", [4, 5, 4, 5, None]))
    assert [r["id"] for r in ranked] == ["r3", "r1", "r2", "r0", "r4"]


@pytest.mark.parametrize(
    ("merge", "available", "expected"),
    [
        (MergeConfig(), (20, 8), (20, 8)),
        (MergeConfig(top_n=3), (20, 8), (3, 8)),
        (MergeConfig(ratio=0.5), (20, 8), (8, 8)),
        (MergeConfig(ratio=0.5), (3, 30), (3, 3)),
        (MergeConfig(ratio=0.5), (0, 10), (0, 10)),
        (MergeConfig(size=10), (20, 8), (5, 5)),
        (MergeConfig(size=10), (3, 30), (3, 7)),
        (MergeConfig(size=10, ratio=0.3), (20, 8), (3, 7)),
    ],
)
def test_merge_counts(merge, available, expected):
    assert merge_counts(*available, merge) == expected


def test_select_takes_the_best_of_each_side():
    distilled, originals = _rows("d", [5, 4, 5, 3]), _rows("o", [4, 5, 4])
    chosen_d, chosen_o = select(distilled, originals, MergeConfig(top_n=2, ratio=0.5))
    assert [r["id"] for r in chosen_d] == ["d2", "d0"] and [r["id"] for r in chosen_o] == ["o1", "o2"]


def test_messages_are_trl_conversational():
    from trl.data_utils import is_conversational

    messages = chat_messages("Translate to French.", "Good morning", "Bonjour")
    assert messages[0] == {"role": "user", "content": "Translate to French.\nGood morning"}
    assert is_conversational({"messages": messages})
