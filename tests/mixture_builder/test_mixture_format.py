"""The shared MIXTURE / LM-Mixup answer format."""

from __future__ import annotations

import pytest

from mixture_builder.mixture_format import (
    format_completion,
    format_qa_item,
    linearise,
    matches_task_pattern,
    parse_completion,
    task_of,
)


def test_completion_round_trip() -> None:
    parsed = parse_completion(format_completion(" step 1 ", " Q: x A: y "))
    assert parsed is not None and parsed.think == "step 1" and parsed.answer == "Q: x A: y"


@pytest.mark.parametrize(
    "text",
    [
        "<think>a</think>",
        "<answer>b</answer>",
        "preamble <think>a</think><answer>b</answer>",
        "<think>a</think><answer>b</answer> trailing",
        "<think>a<think>x</think><answer>b</answer>",
        "<think>a</think><answer>b",
    ],
)
def test_malformed_completions_rejected(text: str) -> None:
    assert parse_completion(text) is None


@pytest.mark.parametrize(
    ("task_type", "text", "expected"),
    [
        ("qa_mixup", "Q: What is 2+2? A: 4", True),
        ("qa_mixup", "What is 2+2? 4", False),
        ("mcq_mixup", "Q: Pick one. A) 1 B) 2 C) 3 D) 4 Answer: B", True),
        ("mcq_mixup", "Q: Pick one. A) 1 B) 2 Answer: B", False),
        ("tfq_mixup", "The sky is green. Answer: False", True),
        ("tfq_mixup", "The sky is green. Answer: maybe", False),
        ("cs_mixup", "C: Biology S: Cells divide by mitosis.", True),
        ("cs_mixup", "Cells divide by mitosis.", False),
        ("para_mixup", "Any paragraph.", True),
        ("para_mixup", "   ", False),
    ],
)
def test_task_patterns(task_type: str, text: str, expected: bool) -> None:
    assert matches_task_pattern(task_type, text) is expected


def test_linearise_and_items() -> None:
    assert linearise([format_qa_item("p1", "a1"), " x "]) == "Q: p1\n A: a1\n\nx"
    with pytest.raises(ValueError):
        task_of("poem_mixup")
