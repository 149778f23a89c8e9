"""Rate answers with the teacher layer's LLM quality rater (rate_quality template, compressed 0–5 score)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from mixture_builder.teacher.client import Teacher
from mixture_builder.teacher.config import TeacherConfig
from mixture_builder.teacher.rater import RATE_TEMPLATE, compress_score, rating_request
from mixture_builder.teacher.templates import load_template


def rate_texts(
    texts: Sequence[str], teacher_config: dict[str, Any], task_types: Sequence[str | None] | None = None
) -> list[int | None]:
    """Compressed 0–5 rater score of each text (``None`` where the request or its parsing failed). One client
    per call (one GRPO step); repeated texts are answered from the teacher's response cache."""

    template = load_template(RATE_TEMPLATE)
    tasks = list(task_types) if task_types is not None else [None] * len(texts)
    requests = [rating_request(template, instruction="", output=text, task=task) for text, task in zip(texts, tasks)]
    with Teacher.from_config(TeacherConfig.from_dict(teacher_config, source="quality_teacher")) as teacher:
        results = teacher.generate(requests)
    return [
        compress_score(result.parsed["overall"]) if result.error is None and result.parsed is not None else None
        for result in results
    ]
