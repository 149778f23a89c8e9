"""GRPO rewards as TRL reward callables ``(prompts, completions, **columns) -> list[float | None]``.

``build_reward_functions(config)`` gives the functions in the order of ``config.reward_weights``
(format, alignment, quality); TRL logs each one as ``rewards/{name}/mean`` and ``…/std``.
"""

from __future__ import annotations

from typing import Any

from .alignment import AlignmentReward
from .format import FormatReward
from .quality import LLMQualityReward, QualityReward

__all__ = ["AlignmentReward", "FormatReward", "LLMQualityReward", "QualityReward", "build_reward_functions"]


def build_reward_functions(config: Any) -> list[Any]:
    """Reward callables for an ``LMMixupGRPOConfig`` (format, alignment, then quality unless it is 'none')."""
    # embedding_device unset: cpu for a use_cpu run, else resolved per process (that process's GPU, if any)
    device = getattr(config, "embedding_device", None) or ("cpu" if getattr(config, "use_cpu", False) else None)
    functions: list[Any] = [
        FormatReward(),
        AlignmentReward(config.alignment_threshold, config.alignment_mode, config.embedding_model, device=device),
    ]
    if config.quality_reward == "knn":
        functions.append(QualityReward(config.quality_library, config.quality_k, model_name=config.embedding_model,
                                       device=device))
    elif config.quality_reward == "llm":
        functions.append(LLMQualityReward(config.quality_teacher))
    return functions
