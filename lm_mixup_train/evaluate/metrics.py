"""Score completions with the GRPO reward functions, so training and evaluation measure the same things.

Per completion: ``format_structure`` (1 when the whole completion is ``<think>…</think><answer>…</answer>``),
``format_pattern`` (1 when the answer also follows its task's pattern), ``format`` (the format reward:
half each), ``alignment`` (cosine of the answer to the reference output; 0 for a broken completion),
``aligned`` (cosine ≥ threshold), ``quality`` (the quality reward: 1.0 / 0.3 / 0) and ``quality_score`` (the
k-NN posterior expected score, or the rater's 0–5 score), and ``failure`` (why it did not parse, else None).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from mixture_builder.mixture_format import parse_completion, task_of

from ..rewards import AlignmentReward, FormatReward, QualityReward
from ..rewards.knn_scorer import reward_for
from ..rewards.llm_rating import rate_texts

FAILURE_REASONS = ("request_failed", "truncated", "bad_format", "empty_answer")
SUMMARY_METRICS = ("parsed", "format", "format_structure", "format_pattern", "alignment_mean", "alignment_share",
                   "quality", "quality_score")
"""Aggregated figures per system (and per task type): shares and means over all records."""


def failure_reason(completion: dict[str, Any]) -> str | None:
    """Why a completion is unusable (one of :data:`FAILURE_REASONS`), or ``None`` when it parses."""
    text = completion.get("text")
    if completion.get("error") or text is None or not text.strip():
        return "request_failed"
    if completion.get("finish_reason") == "length":
        return "truncated"
    parsed = parse_completion(text)
    if parsed is None:
        return "bad_format"
    return "empty_answer" if not parsed.answer else None


@dataclass
class Scorers:
    """The reward functions used as metrics, built once per run."""

    alignment_threshold: float = 0.8
    quality_reward: str = "knn"
    quality_library: str | None = None
    quality_k: int = 16
    quality_teacher: dict[str, Any] | None = None
    embedding_model: str | None = None
    embedding_device: str | None = None

    def __post_init__(self) -> None:
        self._structure = FormatReward(structure_score=1.0, pattern_score=0.0)
        self._pattern = FormatReward(structure_score=0.0, pattern_score=1.0)
        self._format = FormatReward()
        self._quality = None
        if self.quality_reward == "knn":
            self._quality = QualityReward(self.quality_library, self.quality_k, model_name=self.embedding_model,
                                          device=self.embedding_device)
            self.embedding_model = self._library_model()
        self._alignment = AlignmentReward(self.alignment_threshold, "continuous", self.embedding_model,
                                          device=self.embedding_device)

    def _library_model(self) -> str | None:
        """The embedding model of the k-NN library (alignment embeds with the same one)."""
        assert self._quality is not None
        _ = self._quality.scorer  # loads the library, adopting its model when none was given
        return self._quality.model_name

    def settings(self) -> dict[str, Any]:
        """What decides the figures (stored in eval.json, used to recompute them)."""
        return {"alignment_threshold": self.alignment_threshold, "quality_reward": self.quality_reward,
                "quality_library": self.quality_library, "quality_k": self.quality_k,
                "quality_teacher": self.quality_teacher, "embedding_model": self.embedding_model}

    def score(self, completions: Sequence[dict[str, Any]], references: Sequence[str],
              task_types: Sequence[str]) -> list[dict[str, Any]]:
        """Per-completion metrics (see the module docstring)."""
        texts = [c.get("text") or "" for c in completions]
        structure = self._structure(None, texts, task_type=list(task_types))
        pattern = self._pattern(None, texts, task_type=list(task_types))
        fmt = self._format(None, texts, task_type=list(task_types))
        cosines = self._alignment(None, texts, output=list(references))
        quality, scores = self._quality_scores(texts, task_types)
        rows = []
        for i, completion in enumerate(completions):
            rows.append({"failure": failure_reason(completion), "format_structure": structure[i],
                         "format_pattern": pattern[i], "format": fmt[i], "alignment": round(float(cosines[i]), 6),
                         "aligned": bool(cosines[i] >= self.alignment_threshold), "quality": quality[i],
                         "quality_score": scores[i]})
        return rows

    def _quality_scores(self, texts: list[str], task_types: Sequence[str]
                        ) -> tuple[list[float | None], list[float | None]]:
        rewards: list[float | None] = [None] * len(texts)
        scores: list[float | None] = [None] * len(texts)
        if self.quality_reward == "none":
            return rewards, scores
        rewards = [0.0] * len(texts)
        answers = [(i, p.answer) for i, p in enumerate(map(parse_completion, texts)) if p is not None and p.answer]
        if not answers:
            return rewards, scores
        if self.quality_reward == "knn":
            assert self._quality is not None
            values = [float(v) for v in self._quality.expected_scores([a for _, a in answers])]
        else:
            rated = rate_texts([a for _, a in answers], self.quality_teacher or {}, [task_types[i] for i, _ in answers])
            values = [None if v is None else float(v) for v in rated]
        for (i, _), value in zip(answers, values):
            scores[i] = None if value is None else round(value, 6)
            rewards[i] = None if value is None else reward_for(value)
        return rewards, scores


def _mean(values: list[float]) -> float | None:
    return round(sum(values) / len(values), 4) if values else None


def summarize(rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Shares and means of per-completion metrics: :data:`SUMMARY_METRICS`, ``records`` and ``failures``."""
    quality = [r["quality"] for r in rows if r["quality"] is not None]
    scores = [r["quality_score"] for r in rows if r["quality_score"] is not None]
    failures = Counter(r["failure"] for r in rows if r["failure"])
    return {
        "records": len(rows),
        "parsed": _mean([float(r["failure"] is None) for r in rows]),
        "format": _mean([r["format"] for r in rows]),
        "format_structure": _mean([r["format_structure"] for r in rows]),
        "format_pattern": _mean([r["format_pattern"] for r in rows]),
        "alignment_mean": _mean([r["alignment"] for r in rows]),
        "alignment_share": _mean([float(r["aligned"]) for r in rows]),
        "quality": _mean(quality),
        "quality_score": _mean(scores),
        "failures": {reason: failures[reason] for reason in FAILURE_REASONS if failures[reason]},
    }


def summarize_by_task(rows: Sequence[dict[str, Any]], task_types: Sequence[str]) -> dict[str, Any]:
    """``{"overall": summary, "per_task": {task: summary}}`` (tasks as ``qa``, ``mcq``, …)."""
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row, task_type in zip(rows, task_types):
        groups[task_of(task_type)].append(row)
    return {"overall": summarize(rows), "per_task": {task: summarize(groups[task]) for task in sorted(groups)}}
