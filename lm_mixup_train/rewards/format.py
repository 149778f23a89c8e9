"""Format compliance reward: the ``<think>…</think><answer>…</answer>`` shape, then the task's pattern."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from mixture_builder.mixture_format import matches_task_pattern

from .base import Completion, broadcast, parse_all


class FormatReward:
    """``structure_score`` (0.5) when the completion is exactly ``<think>…</think>`` then ``<answer>…</answer>``
    with nothing outside the tags; plus ``pattern_score`` (0.5) when the answer follows its task's pattern
    (``mixture_format.matches_task_pattern``; an empty answer matches no pattern). Needs the ``task_type`` column.
    """

    __name__ = "format_reward"

    def __init__(self, structure_score: float = 0.5, pattern_score: float = 0.5) -> None:
        self.structure_score = structure_score
        self.pattern_score = pattern_score

    def __call__(
        self, prompts: Sequence[Any], completions: Sequence[Completion], task_type: Sequence[str], **_: Any
    ) -> list[float]:
        task_types = broadcast(task_type, len(completions), "task_type")
        rewards = []
        for parsed, task in zip(parse_all(completions), task_types):
            if parsed is None:
                rewards.append(0.0)
            elif matches_task_pattern(task, parsed.answer):
                rewards.append(self.structure_score + self.pattern_score)
            else:
                rewards.append(self.structure_score)
        return rewards
