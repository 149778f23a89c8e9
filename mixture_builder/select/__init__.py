"""`lm-mixup select`: the paper's data-selection baselines (random, top-k, DS2-style, full) as datasets.

``run_select(SelectConfig(...))`` prepares the pool with distill's own stages (and caches), then writes one
dataset folder per method, with the columns, ``stats.json`` and card of a ``lm-mixup distill`` output.
"""

from mixture_builder.select.config import METHODS, SelectConfig, SelectionConfig
from mixture_builder.select.run import run_select

__all__ = ["METHODS", "SelectConfig", "SelectionConfig", "run_select"]
