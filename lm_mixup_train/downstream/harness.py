"""Run one benchmark on one fine-tuned model with lm-evaluation-harness (``lm_eval.simple_evaluate``).

The model is an lm-eval ``HFLM`` (transformers) or ``VLLM`` instance built once per candidate; each task runs
through :func:`run_task` with ``log_samples=True``, and the per-example scores come back as
``{"group", "doc_id", "score"}`` rows, which the bootstrap intervals are computed from.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from mixture_builder.errors import ConfigError

from .config import DownstreamConfig, TaskSpec
from .registry import RenderedTask

logger = logging.getLogger(__name__)


def resolve_device(device: str) -> str:
    """``auto`` → ``cuda`` when a GPU is visible, else ``cpu``."""
    if device != "auto":
        return device
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def load_lm(model_dir: str | Path, config: DownstreamConfig) -> Any:
    """An lm-eval model over the merged checkpoint in ``model_dir`` (backend ``hf`` or ``vllm``)."""
    device = resolve_device(config.device)
    if config.backend == "vllm":
        try:
            from lm_eval.models.vllm_causallms import VLLM
        except ImportError as error:
            raise ConfigError("backend 'vllm' needs vllm", field="backend", fix="pip install 'lm-mixup[vllm]'") from error
        return VLLM(pretrained=str(model_dir), batch_size="auto", seed=config.training.seed)
    from lm_eval.models.huggingface import HFLM

    return HFLM(pretrained=str(model_dir), device=device, batch_size=config.eval_batch_size,
                dtype="float32" if device == "cpu" else "auto")


def task_manager(tasks_dir: Path, *, include_defaults: bool) -> Any:
    """lm-eval's ``TaskManager`` over the rendered local tasks (plus its own tasks when asked)."""
    from lm_eval.tasks import TaskManager

    return TaskManager(include_path=str(tasks_dir), include_defaults=include_defaults)


def run_task(lm: Any, spec: TaskSpec, task: RenderedTask | None, tasks_dir: Path, config: DownstreamConfig,
             manager: Any = None) -> list[dict[str, Any]]:
    """Evaluate ``lm`` on one benchmark; per-example ``{"group", "doc_id", "score"}`` rows.

    ``task`` is the rendered local task, or ``None`` for an lm-eval task name (scored by ``spec.metric``,
    default ``acc``).
    """
    from lm_eval import simple_evaluate

    if spec.name == "bbh" and spec.num_fewshot not in (None, 3):
        raise ConfigError("BBH uses its fixed 3-shot chain-of-thought prompts", field="tasks[bbh].num_fewshot",
                          fix="remove num_fewshot")
    name = task.lm_eval_name if task else spec.name
    limit = spec.limit if spec.limit is not None else (40 if spec.name == "bbh" else None)
    gen_kwargs = {"max_gen_toks": spec.max_gen_toks} if spec.max_gen_toks else None
    manager = manager or task_manager(tasks_dir, include_defaults=task is None)
    output = simple_evaluate(
        model=lm, tasks=[name], task_manager=manager, limit=limit,
        num_fewshot=None if spec.name == "bbh" else spec.num_fewshot, log_samples=True, bootstrap_iters=0,
        apply_chat_template=config.apply_chat_template, fewshot_as_multiturn=False, gen_kwargs=gen_kwargs,
        random_seed=config.training.seed, numpy_random_seed=config.training.seed,
        torch_random_seed=config.training.seed, fewshot_random_seed=config.training.seed,
    )
    if output is None:  # non-zero ranks of a distributed run
        return []
    samples: dict[str, list[dict[str, Any]]] = output["samples"]
    metric = task.metric if task else (spec.metric or "acc")
    rows = []
    for group in sorted(samples):
        for sample in samples[group]:
            value = sample.get(metric)
            if value is None:
                raise ConfigError(f"task {group} logs no '{metric}' per example", field=f"tasks[{spec.name}]",
                                  fix=f"metrics found: {', '.join(k for k in sample if isinstance(sample[k], float))}")
            rows.append({"group": group, "doc_id": int(sample["doc_id"]), "score": float(value)})
    return rows
