"""Semantic alignment reward: cosine similarity of the answer and the reference ``output``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import numpy as np

from mixture_builder.errors import ConfigError

from .. import embedding
from .base import Completion, broadcast, parse_all


class AlignmentReward:
    """Embed each answer and its reference ``output`` (one batch per call, shared references embedded once);
    ``mode="binary"``: 1.0 if the cosine is ≥ ``threshold`` (0.8) else 0.0; ``mode="continuous"``: the cosine
    itself. Completions whose format is broken, or whose answer is empty, get 0.0. Needs the ``output`` column.
    """

    __name__ = "alignment_reward"

    def __init__(
        self,
        threshold: float = 0.8,
        mode: Literal["binary", "continuous"] = "binary",
        model_name: str | None = None,
        batch_size: int = 64,
        device: str | None = None,
    ) -> None:
        if mode not in ("binary", "continuous"):
            raise ConfigError(f"unknown alignment mode {mode!r}", field="alignment_mode", fix="use binary or continuous")
        if not -1.0 <= threshold <= 1.0:
            raise ConfigError(f"threshold {threshold} is not a cosine", field="alignment_threshold", fix="use [-1, 1]")
        self.threshold, self.mode, self.model_name, self.batch_size = threshold, mode, model_name, batch_size
        self.device = device

    def similarities(self, answers: Sequence[str], references: Sequence[str]) -> np.ndarray:
        """Cosine similarity of each answer with its reference."""
        if not answers:
            return np.zeros(0, dtype=np.float32)
        vectors = embedding.embed([*answers, *references], self.model_name, self.batch_size, device=self.device)
        return np.einsum("ij,ij->i", vectors[: len(answers)], vectors[len(answers) :])

    def __call__(
        self, prompts: Sequence[Any], completions: Sequence[Completion], output: Sequence[str], **_: Any
    ) -> list[float]:
        references = broadcast(output, len(completions), "output")
        rewards = [0.0] * len(completions)
        scored = [(i, p.answer) for i, p in enumerate(parse_all(completions)) if p is not None and p.answer]
        cosines = self.similarities([answer for _, answer in scored], [references[i] for i, _ in scored])
        for (i, _), cosine in zip(scored, cosines):
            if self.mode == "binary":
                rewards[i] = 1.0 if cosine >= self.threshold else 0.0
            else:
                rewards[i] = float(cosine)
        return rewards
