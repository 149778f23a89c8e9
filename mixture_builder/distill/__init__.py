"""`lm-mixup distill`: distill a real low-quality instruction pool (LM-Mixup, arXiv 2510.20449).

``run_distill(DistillConfig(...))`` reads pools, removes duplicates, scores, clusters the low-quality samples,
lets a distiller merge each cluster into one sample, re-rates, ranks and merges the result with the original
high-quality samples, and writes a dataset folder (Parquet + card + ``stats.json`` [+ ``report.html``]).
"""

from mixture_builder.distill.config import DistillConfig, demo_config
from mixture_builder.distill.pipeline import run_distill

__all__ = ["DistillConfig", "demo_config", "run_distill"]
