"""Reward pre-flight: sample a few groups from the start model and check the rewards can teach anything.

GRPO learns nothing from a group whose completions all get the same reward, so before a long run this
reports, per reward (and for the weighted total): the mean, the mean standard deviation within groups and
the fraction of zero-variance groups; plus the format hit rate and the truncation rate of the samples.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from lm_mixup_train.rewards import build_reward_functions
from lm_mixup_train.trainers import load_splits, load_tokenizer, resolve_model
from mixture_builder.mixture_format import parse_completion

from .config import LMMixupGRPOConfig


@dataclass
class RewardStats:
    """One reward over the sampled groups."""

    mean: float
    std_within_groups: float
    zero_variance_groups: float


@dataclass
class RewardCheck:
    """What ``check_rewards`` found."""

    groups: int
    group_size: int
    rewards: dict[str, RewardStats] = field(default_factory=dict)
    format_hit_rate: float = 0.0
    truncation_rate: float = 0.0
    examples: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def render(self) -> str:
        """A small text table."""
        lines = [f"{self.groups} groups × {self.group_size} completions", (f"{'reward':<20} {'mean':>7} "
                 f"{'std/group':>10} {'zero-var groups':>16}")]
        for name, stats in self.rewards.items():
            lines.append(f"{name:<20} {stats.mean:>7.3f} {stats.std_within_groups:>10.3f} "
                         f"{stats.zero_variance_groups:>16.0%}")
        lines.append(f"format hit rate {self.format_hit_rate:.0%}, truncation rate {self.truncation_rate:.0%}")
        return "\n".join(lines)


def group_stats(values: np.ndarray) -> RewardStats:
    """Stats of a ``(groups, group_size)`` reward array (NaN = no reward)."""
    std = np.nanstd(values, axis=1)
    return RewardStats(
        mean=float(np.nanmean(values)),
        std_within_groups=float(np.nanmean(std)),
        zero_variance_groups=float(np.mean(std < 1e-8)),
    )


def sample_groups(model: Any, tokenizer: Any, prompts: list[list[dict]], config: LMMixupGRPOConfig) -> tuple[list[str], list[bool]]:
    """``num_generations`` sampled completions per prompt (flat, grouped by prompt) and whether each was cut off
    at ``max_completion_length``."""
    import torch

    texts: list[str] = []
    truncated: list[bool] = []
    for prompt in prompts:
        inputs = tokenizer.apply_chat_template(prompt, add_generation_prompt=True, return_tensors="pt", return_dict=True)
        inputs = {k: v.to(model.device) for k, v in inputs.items()}
        with torch.no_grad():
            out = model.generate(
                **inputs,
                do_sample=True,
                temperature=config.temperature,
                top_p=config.top_p,
                top_k=config.top_k or None,
                max_new_tokens=config.max_completion_length,
                num_return_sequences=config.num_generations,
                pad_token_id=tokenizer.pad_token_id,
            )
        for ids in out[:, inputs["input_ids"].shape[1]:].tolist():
            ended = tokenizer.eos_token_id in ids
            truncated.append(not ended and len(ids) >= config.max_completion_length)
            texts.append(tokenizer.decode(ids, skip_special_tokens=True))
    return texts, truncated


def check_rewards(config: LMMixupGRPOConfig, num_prompts: int = 4, seed: int = 0) -> RewardCheck:
    """Sample ``num_prompts`` groups from ``config.model_name_or_path`` on the GRPO training split and
    score them with the configured rewards."""
    import torch
    from transformers import AutoModelForCausalLM

    torch.manual_seed(seed)
    model_path = resolve_model(config.model_name_or_path)
    config.model_name_or_path = model_path
    tokenizer = load_tokenizer(model_path)
    train, _, _ = load_splits(config, tokenizer, "grpo")
    rows = train.shuffle(seed=seed).select(range(min(num_prompts, len(train))))
    model = AutoModelForCausalLM.from_pretrained(model_path, **(config.model_init_kwargs or {}))
    model.eval()
    texts, truncated = sample_groups(model, tokenizer, list(rows["prompt"]), config)

    size = config.num_generations
    repeat = {name: [v for v in rows[name] for _ in range(size)] for name in rows.column_names if name != "prompt"}
    prompts = [p for p in rows["prompt"] for _ in range(size)]
    completions = [[{"role": "assistant", "content": t}] for t in texts]
    report = RewardCheck(groups=len(rows), group_size=size)
    total = np.zeros(len(texts))
    for function, weight in zip(build_reward_functions(config), config.reward_weights):
        values = np.array([np.nan if v is None else v for v in function(prompts, completions, **repeat)], dtype=float)
        report.rewards[function.__name__] = group_stats(values.reshape(-1, size))
        total += weight * np.nan_to_num(values)
    report.rewards["weighted_total"] = group_stats(total.reshape(-1, size))
    report.format_hit_rate = float(np.mean([parse_completion(t) is not None for t in texts]))
    report.truncation_rate = float(np.mean(truncated))
    report.examples = texts[: min(3, len(texts))]
    return report
