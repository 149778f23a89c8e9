"""Quality reward: the k-NN Bayesian scorer over a rated library (default), or an LLM rater."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from lm_mixup_train.rewards.llm_rating import rate_texts
from lm_mixup_train.rewards.quality_library import QualityLibrary
from mixture_builder.errors import ConfigError

from .. import embedding
from .base import Completion, broadcast, parse_all
from .knn_scorer import DEFAULT_THRESHOLDS, KNNQualityScorer, reward_for


class QualityReward:
    """Embed each answer, score it against the library at ``library_path`` with :class:`KNNQualityScorer`
    (k = 16) and map the posterior expected score to 1.0 (≥ 4), 0.3 (≥ 3) or 0. Broken formats and empty
    answers get 0. The library and the embedding model load on first use, once per process."""

    __name__ = "quality_reward"

    def __init__(
        self,
        library_path: str | Path,
        k: int = 16,
        thresholds: Sequence[tuple[float, float]] = DEFAULT_THRESHOLDS,
        model_name: str | None = None,
        batch_size: int = 64,
        device: str | None = None,
    ) -> None:
        if k < 1:
            raise ConfigError(f"k must be ≥ 1, got {k}", field="quality_k")
        self.library_path, self.k, self.thresholds = str(library_path), k, tuple(thresholds)
        self.model_name, self.batch_size, self.device = model_name, batch_size, device
        self._scorer: KNNQualityScorer | None = None

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "_scorer": None}

    @property
    def scorer(self) -> KNNQualityScorer:
        if self._scorer is None:
            library = QualityLibrary.load(self.library_path)
            library_model = library.meta.get("embedding_model")
            if self.model_name is None:
                self.model_name = library_model
            elif library_model != self.model_name:
                raise ConfigError(
                    f"library embedded with {library_model or 'the default MiniLM'!r}, "
                    f"reward embeds with {self.model_name!r}",
                    path=self.library_path,
                    field="embedding_model",
                    fix="use the library's embedding model or rebuild the library",
                )
            self._scorer = KNNQualityScorer(library.embeddings, library.scores, self.k, self.thresholds)
        return self._scorer

    def expected_scores(self, texts: Sequence[str]) -> np.ndarray:
        """Posterior expected score (0–5) of each text."""
        scorer = self.scorer
        return scorer.expected_scores(embedding.embed(list(texts), self.model_name, self.batch_size, device=self.device))

    def __call__(self, prompts: Sequence[Any], completions: Sequence[Completion], **_: Any) -> list[float]:
        rewards = [0.0] * len(completions)
        scored = [(i, p.answer) for i, p in enumerate(parse_all(completions)) if p is not None and p.answer]
        if scored:
            expected = self.expected_scores([answer for _, answer in scored])
            for (i, _), score in zip(scored, expected):
                rewards[i] = reward_for(float(score), self.thresholds)
        return rewards


class LLMQualityReward:
    """Rate each answer with the teacher layer's LLM quality rater (any OpenAI-compatible endpoint or the
    embedded model); the compressed 0–5 score maps to the reward like the k-NN scorer's expected score.
    Requests that fail get ``None`` (TRL ignores them for this component)."""

    __name__ = "quality_reward"

    def __init__(self, teacher: dict[str, Any], thresholds: Sequence[tuple[float, float]] = DEFAULT_THRESHOLDS):
        self.teacher_config, self.thresholds = dict(teacher), tuple(thresholds)

    def __call__(
        self, prompts: Sequence[Any], completions: Sequence[Completion], task_type: Sequence[str] | None = None, **_: Any
    ) -> list[float | None]:
        rewards: list[float | None] = [0.0] * len(completions)
        tasks = broadcast(task_type, len(completions), "task_type")
        scored = [(i, p.answer) for i, p in enumerate(parse_all(completions)) if p is not None and p.answer]
        if scored:
            scores = rate_texts([a for _, a in scored], self.teacher_config, [tasks[i] for i, _ in scored])
            for (i, _), score in zip(scored, scores):
                rewards[i] = None if score is None else reward_for(float(score), self.thresholds)
        return rewards
