"""``run_downstream``: fine-tune the base model on every candidate, benchmark each, compare with intervals.

Order: render the local lm-eval tasks into ``{output}/tasks`` → load the held-out examples and every candidate
(held-out rows excluded) → refuse contaminated candidates (before any training) → per candidate: train LoRA
(once per training fingerprint), then each pending (candidate, task) unit → ``results.json``, ``results.md``,
``results.png`` → the Evaluation section of each local candidate's card.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from lm_mixup_train.trainers import resolve_model

from . import card, harness, heldout, lora, results
from .candidates import CandidateData, load_candidate
from .config import HELDOUT_TASK, DownstreamConfig, TaskSpec
from .decontam import check_candidate
from .registry import RenderedTask, render_task
from .units import Progress, UnitStore, fingerprint

RESULTS_FILE = "results.json"


def _render(config: DownstreamConfig, tasks_dir: Path) -> dict[str, RenderedTask]:
    return {t.name: render_task(t.name, Path(config.eval_data_dir), Path(config.gsm8k_file), tasks_dir)
            for t in config.tasks if t.is_local}


def _train_key(config: DownstreamConfig, data: CandidateData) -> str:
    return fingerprint({"base_model": config.base_model, "lora": config.to_dict()["lora"],
                        "training": config.to_dict()["training"], "data": data.digest, "device": config.device})


def _task_key(config: DownstreamConfig, spec: TaskSpec, task: RenderedTask | None, tasks_dir: Path,
              train_key: str, heldout_key: str | None) -> str:
    payload: dict[str, Any] = {"train": train_key, "task": spec.__dict__, "chat": config.apply_chat_template,
                               "backend": config.backend}
    if spec.name == HELDOUT_TASK:
        payload["heldout"] = heldout_key
    if task is not None:  # the rendered YAML, every template (conservative) and utils, the data files (name + size)
        texts = [p.read_text(encoding="utf-8") for p in sorted(tasks_dir.glob("_*.yaml"))]
        texts += [(tasks_dir / "utils.py").read_text(encoding="utf-8")]
        texts += [(tasks_dir / f"{name}.yaml").read_text(encoding="utf-8") for name in task.subtasks]
        payload["files"] = [[f.name, f.stat().st_size] for f in task.files]
        payload["config_text"] = fingerprint(texts)
    return fingerprint(payload)


def _check_all(config: DownstreamConfig, data: list[CandidateData], rendered: dict[str, RenderedTask]) -> dict[str, Any]:
    files = {("truthfulqa" if name.startswith("truthfulqa") else name): task.files for name, task in rendered.items()}
    work = config.output_dir / "decontamination"
    return {d.spec.name: check_candidate(d, files, work, config.decontamination) for d in data}


def _evaluate_candidate(config: DownstreamConfig, data: CandidateData, pending: list[TaskSpec], keys: dict[str, str],
                        ctx: dict[str, Any], store: UnitStore, progress: Progress) -> None:
    name = data.spec.name
    started = time.monotonic()
    model_root = config.output_dir / "models" / name / ctx["train"][name]
    if lora.is_trained(model_root):
        progress.note(f"{name}: fine-tuned model recorded earlier, not retrained")
    else:
        progress.note(f"{name}: LoRA fine-tuning on {len(data.examples)} rows")
    model_dir = lora.train_candidate(config, ctx["base"], data, model_root)
    progress.note(f"{name}: model ready at {model_dir} ({time.monotonic() - started:.0f}s)")
    lm = harness.load_lm(model_dir, config)
    for spec in pending:
        started = progress.begin(name, spec.name)
        if spec.name == HELDOUT_TASK:
            model, tokenizer = _hf_model(lm, model_dir)
            rows = heldout.nll_rows(model, tokenizer, ctx["heldout"], config.heldout)
        else:
            rows = harness.run_task(lm, spec, ctx["rendered"].get(spec.name), ctx["tasks_dir"], config, ctx["manager"])
        store.put(name, spec.name, keys[spec.name], rows, time.monotonic() - started, {"model": str(model_dir)})
        task = ctx["rendered"].get(spec.name)
        value = results.estimate(rows, macro=bool(task and task.macro), samples=100).value if rows else None
        progress.end(name, spec.name, started, value)
    del lm


def _hf_model(lm: Any, model_dir: Path) -> tuple[Any, Any]:
    """The transformers model and tokenizer behind ``lm`` (loaded from ``model_dir`` for the vLLM backend)."""
    if hasattr(lm, "model") and hasattr(lm, "tokenizer") and hasattr(lm.model, "forward"):
        return lm.model, lm.tokenizer
    from transformers import AutoModelForCausalLM, AutoTokenizer

    return AutoModelForCausalLM.from_pretrained(model_dir), AutoTokenizer.from_pretrained(model_dir)


def run_downstream(config: DownstreamConfig, *, write_cards: bool = True) -> dict[str, Any]:
    """Run the whole A/B (resuming recorded units); returns the summary written to ``results.json``."""
    if config.threads:
        import torch

        torch.set_num_threads(config.threads)
    out = config.output_dir
    out.mkdir(parents=True, exist_ok=True)
    tasks_dir = out / "tasks"
    rendered = _render(config, tasks_dir)
    task_names = [t.name for t in config.tasks]
    held = heldout.load_heldout(config.heldout) if HELDOUT_TASK in task_names else []
    held_key = heldout.heldout_digest(held, config.heldout) if held else None
    data = [load_candidate(spec, heldout.heldout_keys(held) if held else None) for spec in config.candidates]
    overlaps = _check_all(config, data, rendered)
    train_keys = {d.spec.name: _train_key(config, d) for d in data}
    keys = {(d.spec.name, t.name): _task_key(config, t, rendered.get(t.name), tasks_dir, train_keys[d.spec.name],
                                             held_key) for d in data for t in config.tasks}
    store = UnitStore(out)
    done = {k for k in keys if store.get(*k, keys[k]) is not None}
    progress = Progress(total=len(keys), done=len(done))
    for k in sorted(done):
        progress.skip(*k)
    ctx = {"base": resolve_model(config.base_model), "train": train_keys, "heldout": held, "rendered": rendered,
           "tasks_dir": tasks_dir,
           "manager": harness.task_manager(tasks_dir, include_defaults=any(not t.is_local and t.name != HELDOUT_TASK
                                                                           for t in config.tasks))}
    for d in data:
        pending = [t for t in config.tasks if (d.spec.name, t.name) not in done]
        if pending:
            _evaluate_candidate(config, d, pending, {t.name: keys[(d.spec.name, t.name)] for t in pending}, ctx,
                                store, progress)
    summary = _summarise(config, data, rendered, keys, store, overlaps)
    if write_cards:
        _write_cards(config, data, summary, task_names)
    return summary


def _summarise(config: DownstreamConfig, data: list[CandidateData], rendered: dict[str, RenderedTask],
               keys: dict[tuple[str, str], str], store: UnitStore, overlaps: dict[str, Any]) -> dict[str, Any]:
    table: dict[str, dict[str, results.Estimate]] = {}
    for d in data:
        row = table.setdefault(d.spec.name, {})
        for t in config.tasks:
            record = store.get(d.spec.name, t.name, keys[(d.spec.name, t.name)])
            task = rendered.get(t.name)
            if record and record["rows"]:
                row[t.name] = results.estimate(record["rows"], macro=bool(task and task.macro),
                                               samples=config.bootstrap_samples, seed=config.training.seed, key=t.name)
    summary = results.summarise(table, config.reference_name)
    summary["tasks"] = [t.name for t in config.tasks]
    summary["higher_is_better"] = {t.name: t.name != HELDOUT_TASK for t in config.tasks}
    summary["candidates"] = {d.spec.name: {"path": d.spec.path, "rows_read": d.read, "rows_trained": len(d.examples),
                                           "skipped": d.skipped, "benchmark_overlap": overlaps.get(d.spec.name, {}),
                                           "digest": d.digest} for d in data}
    summary["config"] = config.to_dict()
    out = config.output_dir
    (out / RESULTS_FILE).write_text(json.dumps(summary, indent=2, default=str) + "\n", encoding="utf-8")
    (out / "results.md").write_text(results.markdown_tables(summary, summary["tasks"]) + "\n", encoding="utf-8")
    results.bar_chart(summary, summary["tasks"], out / "results.png")
    return summary


def _write_cards(config: DownstreamConfig, data: list[CandidateData], summary: dict[str, Any], tasks: list[str]) -> None:
    for d in data:
        if d.spec.card and d.local_folder is not None:
            section = card.evaluation_section(summary, config, d.spec.name, tasks)
            card.write_card_section(d.local_folder, section, config.output_dir / "results.png")
