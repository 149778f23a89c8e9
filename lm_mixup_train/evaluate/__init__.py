"""Evaluate what the toolkit makes: ``evaluate_distiller`` scores a distiller (teacher or checkpoint) on a MIXTURE
split with the GRPO rewards, beside two trivial baselines."""

from .config import EvalConfig
from .distiller import evaluate_distiller, rescore
from .report import EvalReport

__all__ = ["EvalConfig", "EvalReport", "evaluate_distiller", "rescore"]
