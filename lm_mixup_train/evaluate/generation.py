"""Completions to score: the distiller's (resumable, one JSON line per record) and the trivial baselines'.

The distiller runs through the same backends as `lm-mixup distill`: the teacher layer (``Teacher``: embedded
model, OpenAI-compatible endpoint, vLLM server) or a checkpoint (``CheckpointGenerator``: transformers or vLLM),
both with the teacher's response cache. A checkpoint sees exactly its training prompt
(``mixture_format.prompt_messages``); a general teacher gets the distill template plus the record's task layout.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mixture_builder.distill.checkpoint import CheckpointGenerator
from mixture_builder.distill.config import DistillerConfig
from mixture_builder.distill.distiller import distill_template
from mixture_builder.errors import InputError
from mixture_builder.generate.sample_templates import LAYOUTS
from mixture_builder.mixture_format import SYSTEM_PROMPT, format_completion, prompt_messages, task_of
from mixture_builder.teacher.client import Teacher
from mixture_builder.teacher.layout import Layout, guided_params, think_answer_layout
from mixture_builder.teacher.types import ChatRequest, ChatResult

if TYPE_CHECKING:
    from typing_extensions import Self

def task_hint(task_type: str) -> str:
    """The answer layout a general teacher is asked for, per task type."""
    return ("Reply in exactly this form and nothing else: <think>your reasoning</think><answer>the merged sample, "
            f"as {LAYOUTS[task_of(task_type)]}</answer>")


def record_layout(config: DistillerConfig, task_type: str) -> Layout | None:
    """The completion's layout for a record of ``task_type`` under format-guided generation (``None``: raw)."""
    if config.guidance == "off":
        return None
    return think_answer_layout(task_of(task_type), think_budget=config.think_budget)


def teacher_request(record: dict[str, Any], config: DistillerConfig) -> ChatRequest:
    """The distill template's request for one MIXTURE record, with its task's layout as the format hint (and
    as guidance where the teacher's backend controls decoding)."""
    template = distill_template()
    messages = template.render(system_prompt=SYSTEM_PROMPT, instruction=record["instruction"],
                               cluster=record["input"], hint=task_hint(record["task_type"]))
    params: dict[str, Any] = {"max_tokens": config.max_new_tokens}
    layout = record_layout(config, record["task_type"])
    if layout is not None:
        params.update(guided_params(config.teacher, layout))
    return ChatRequest(messages=messages, params=params, tag=template.id)


def generation_settings(config: DistillerConfig) -> dict[str, Any]:
    """The generation settings passed to the distiller, as recorded in eval.json (including any ``guided*``
    setting the distiller or teacher config exposes)."""
    if config.checkpoint:
        settings = {"kind": "checkpoint", "checkpoint": config.checkpoint, "engine": config.engine,
                    "max_new_tokens": config.max_new_tokens, "temperature": config.temperature,
                    "prompt": "training prompt (mixture_format.prompt_messages)"}
    else:
        teacher = config.teacher
        settings = {"kind": "teacher", "backend": teacher.backend, "model": teacher.model_id,
                    "max_new_tokens": config.max_new_tokens, "temperature": teacher.temperature,
                    "prompt": f"{distill_template().id} + task layout hint"}
    settings["guidance"] = config.guidance  # off (raw), local, vllm or sglang
    settings["think_budget"] = config.think_budget if config.guidance != "off" else None
    return settings


class DistillerRunner:
    """Completions for MIXTURE records from the configured distiller (a context manager)."""

    def __init__(self, config: DistillerConfig, *, use_cache: bool = True) -> None:
        self.config = config
        self.use_cache = use_cache
        self._checkpoints: dict[str, CheckpointGenerator] = {}  # one per task type: each has its own layout
        self._teacher: Teacher | None = None
        if not config.checkpoint:
            teacher = dataclasses.replace(config.teacher, use_cache=config.teacher.use_cache and use_cache)
            self._teacher = Teacher.from_config(teacher)

    def complete(self, records: Sequence[dict[str, Any]]) -> list[ChatResult]:
        """One completion per record, in order."""
        if self.config.checkpoint:
            results: dict[int, ChatResult] = {}
            for task_type in sorted({r["task_type"] for r in records}):
                indices = [i for i, r in enumerate(records) if r["task_type"] == task_type]
                outputs = self._checkpoint(task_type).generate(
                    [prompt_messages(records[i]["input"], records[i]["instruction"]) for i in indices])
                results.update(zip(indices, outputs))
            return [results[i] for i in range(len(records))]
        assert self._teacher is not None
        requests = [teacher_request(r, self.config) for r in records]
        return self._teacher.generate(requests, desc="distiller")

    def _checkpoint(self, task_type: str) -> CheckpointGenerator:
        if task_type not in self._checkpoints:
            config = self.config
            self._checkpoints[task_type] = CheckpointGenerator(
                config.checkpoint, engine=config.engine, max_new_tokens=config.max_new_tokens,
                temperature=config.temperature, batch_size=config.batch_size,
                cache_path=config.teacher.resolved_cache_path if self.use_cache else None,
                layout=record_layout(config, task_type))
        return self._checkpoints[task_type]

    def close(self) -> None:
        for generator in self._checkpoints.values():
            generator.close()
        if self._teacher is not None:
            self._teacher.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def read_completions(path: Path) -> dict[str, dict[str, Any]]:
    """Saved completions by record id; a torn last line (a killed run) is ignored."""
    done: dict[str, dict[str, Any]] = {}
    if not path.is_file():
        return done
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            row = json.loads(line)
        except json.JSONDecodeError:
            continue
        done[row["id"]] = row
    return done


def generate_completions(records: Sequence[dict[str, Any]], config: DistillerConfig, path: Path, *,
                         use_cache: bool = True) -> list[dict[str, Any]]:
    """The distiller's completion of each record; records already in ``path`` are skipped, new ones appended
    batch by batch (a checkpoint's ``batch_size``, or the teacher's ``max_concurrency``), so a killed run
    resumes where it stopped."""
    from tqdm.auto import tqdm

    batch_size = config.batch_size if config.checkpoint else config.teacher.max_concurrency

    done = read_completions(path)
    todo = [r for r in records if r["id"] not in done]
    if todo:
        path.parent.mkdir(parents=True, exist_ok=True)
        with DistillerRunner(config, use_cache=use_cache) as runner, path.open("a", encoding="utf-8") as sink, \
                tqdm(total=len(records), initial=len(records) - len(todo), desc="Evaluating distiller",
                     unit="record") as bar:
            for start in range(0, len(todo), batch_size):
                batch = todo[start:start + batch_size]
                for record, result in zip(batch, runner.complete(batch)):
                    row = {"id": record["id"], "text": result.text, "finish_reason": result.finish_reason,
                           "error": result.error}
                    done[record["id"]] = row
                    sink.write(json.dumps(row, ensure_ascii=False) + "\n")
                sink.flush()
                bar.update(len(batch))
    return [done[r["id"]] for r in records]


def _longest(items: list[str]) -> str:
    return max(items, key=len)


def _first(items: list[str]) -> str:
    return items[0]


BASELINES: dict[str, Callable[[list[str]], str]] = {"longest_input": _longest, "first_input": _first}
"""Trivial distillers: return one of the cluster's own items (wrapped in the answer tags, empty reasoning)."""


def baseline_completions(records: Sequence[dict[str, Any]], name: str) -> list[dict[str, Any]]:
    """The baseline ``name``'s completion of each record, from its ``inputs`` column."""
    pick = BASELINES[name]
    rows = []
    for record in records:
        items = [item for item in record.get("inputs") or [] if isinstance(item, str) and item.strip()]
        if items:
            rows.append({"id": record["id"], "text": format_completion("", pick(items)), "finish_reason": "stop",
                         "error": None})
        else:
            rows.append({"id": record["id"], "text": None, "finish_reason": None, "error": "no input items"})
    return rows


def check_records(records: Sequence[dict[str, Any]], where: str) -> None:
    """Refuse records the metrics cannot score (one line naming the record and field)."""
    seen: set[str] = set()
    for n, record in enumerate(records):
        for name in ("id", "task_type", "instruction", "input", "output"):
            if not isinstance(record.get(name), str) or not record[name].strip():
                raise InputError("empty or missing", path=where, record=n, field=name, fix="check the MIXTURE split")
        try:
            task_of(record["task_type"])
        except ValueError as error:
            raise InputError(str(error), path=where, record=n, field="task_type") from None
        if record["id"] in seen:
            raise InputError(f"duplicate id {record['id']!r}", path=where, record=n, field="id",
                             fix="ids must be unique within a split")
        seen.add(record["id"])
