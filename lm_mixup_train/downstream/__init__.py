"""Downstream A/B (``lm-mixup evaluate downstream``): LoRA fine-tuning per candidate dataset, lm-eval benchmarks
over local task configs, held-out NLL, bootstrap intervals, and an Evaluation section in each candidate's card."""

from .config import CandidateSpec, DownstreamConfig, TaskSpec
from .run import run_downstream

__all__ = ["CandidateSpec", "DownstreamConfig", "TaskSpec", "run_downstream"]
