"""``stats.json``: what a build or distill run records for its dataset card.

Build and distill write ``{output}/stats.json`` next to the Parquet shards; ``lm-mixup card DIR`` reads it to
regenerate ``README.md``. Every key is optional (a missing key leaves its card section short, never fails);
unknown keys are ignored. Keys naming a credential (``api_key``, ``hf_token``, ``secret``, ``password``, …;
not ``max_tokens``) are removed wherever they occur, so credentials never reach a card. Schema::

    {
      "pipeline": "mixture" | "distilled" | str,   # dataset kind; default "distilled" when "distiller" is
                                                   # present, else "mixture"
      "pretty_name": str,                          # card title; default: the folder name
      "summary": str,                              # one paragraph on what the dataset is
      "stages": {                                  # pipeline order (JSON objects keep order)
        "<stage>": {
          "in": int, "out": int,                   # records entering / leaving the stage
          "dropped": {"<reason>": int},            # records removed, per reason
          "added": int,                            # records created beyond one per input (optional)
          "merged": int,                           # inputs folded into another record (optional)
          "params": {"<name>": value},             # the stage's parameters (optional)
          "note": str                              # (optional)
        }
      },
      "parameters": {"<name>": value},             # run-wide parameters (seed, split ratios, …)
      "teacher": str | {"model": str, ...},        # the model that wrote records ("distiller" also read)
      "rater": str | {"model": str, ...},          # the model that rated quality
      "templates": {"<template>": "<version>"},    # prompt template versions
      "sources": [str | {"name": str, "hub_id": str, "license": str, "path": str, "records": int}],
      "source_datasets": [str],                    # Hub ids for the card's YAML
      "licenses": [str],                           # licenses to declare besides those in the data
      "language": [str], "task_categories": [str], "tags": [str],
      "repo_id": "org/name",                       # used in the card's load_dataset snippet
      "default_config": str,                       # e.g. "sft"
      "citation": str,                             # extra BibTeX
      "card_markdown": str                         # extra Markdown sections for the card body
    }

In every stage, ``in + added = out + sum(dropped) + merged``; the card flags a stage whose numbers do not add
up. :func:`~dataset_cards.dataset_card.write_dataset_card` records the card's inputs back into these keys
(other keys are kept), so ``lm-mixup card DIR`` later renders the same card. :func:`stages_from_datatrove` turns datatrove's own per-step stats (``logging_dir/stats.json``) into
``stages`` entries.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from dataset_cards.card_info import DatasetCardInfo
from dataset_cards.redact import strip_secrets
from mixture_builder.errors import InputError

STATS_FILE = "stats.json"


def load_stats_json(path: str | Path) -> dict[str, Any]:
    """Read ``stats.json`` (a folder or the file); ``{}`` when it does not exist. Secrets are removed."""
    file = Path(path)
    if file.is_dir():
        file = file / STATS_FILE
    if not file.exists():
        return {}
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise InputError(
            f"invalid JSON: {error.msg}",
            path=str(file),
            line=error.lineno,
            fix="rewrite it as one JSON object",
        ) from error
    if not isinstance(data, dict):
        raise InputError(
            "expected a JSON object", path=str(file), fix="see dataset_cards.build_stats for the schema"
        )
    return strip_secrets(data)


def info_from_stats(stats: Mapping[str, Any], *, default_name: str = "lm-mixup dataset") -> DatasetCardInfo:
    """Build a :class:`DatasetCardInfo` from a ``stats.json`` mapping (missing keys get defaults)."""
    stats = strip_secrets(stats)

    def as_list(key: str) -> list[Any]:
        value = stats.get(key) or []
        return [value] if isinstance(value, str) else list(value)

    optional = {key: as_list(key) for key in ("language", "task_categories") if stats.get(key)}
    return DatasetCardInfo(
        pretty_name=str(stats.get("pretty_name") or default_name),
        summary=str(stats.get("summary") or ""),
        kind=str(
            stats.get("pipeline") or stats.get("kind") or ("distilled" if "distiller" in stats else "mixture")
        ),
        stages={str(k): dict(v) for k, v in (stats.get("stages") or {}).items() if isinstance(v, Mapping)},
        parameters=dict(stats.get("parameters") or {}),
        teacher=_model_name(stats.get("teacher") or stats.get("distiller")),
        rater=_model_name(stats.get("rater")),
        templates={str(k): str(v) for k, v in (stats.get("templates") or {}).items()},
        sources=as_list("sources"),
        source_datasets=[str(s) for s in as_list("source_datasets")],
        tags=[str(t) for t in as_list("tags")],
        licenses=[str(s) for s in as_list("licenses")],
        repo_id=stats.get("repo_id"),
        default_config=stats.get("default_config"),
        citation=stats.get("citation"),
        extra_markdown=str(stats.get("card_markdown") or ""),
        **optional,
    )


def record_card_info(out_dir: str | Path, info: DatasetCardInfo) -> Path:
    """Merge ``info`` into ``out_dir/stats.json`` under the schema's keys (other keys are kept)."""
    path = Path(out_dir) / STATS_FILE
    stats = load_stats_json(path)
    stats.update(
        strip_secrets(
            {
                "pipeline": info.kind,
                "pretty_name": info.pretty_name,
                "summary": info.summary,
                "stages": info.stages,
                "parameters": info.parameters,
                "teacher": info.teacher,
                "rater": info.rater,
                "templates": info.templates,
                "sources": info.sources,
                "source_datasets": info.source_datasets,
                "licenses": info.licenses,
                "language": info.language,
                "task_categories": info.task_categories,
                "tags": info.tags,
                "repo_id": info.repo_id,
                "default_config": info.default_config,
                "citation": info.citation,
                "card_markdown": info.extra_markdown,
            }
        )
    )
    path.write_text(json.dumps(stats, indent=2, ensure_ascii=False, default=str) + "\n", encoding="utf-8")
    return path


def stages_from_datatrove(steps: Iterable[Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """datatrove's per-step stats (``PipelineStats.to_json()`` list) → ``stages`` entries.

    ``in`` is the step's ``total``, ``out`` its ``forwarded`` (for readers, ``documents``), and every
    ``dropped_<reason>`` counter becomes ``dropped[reason]``; a bare ``dropped`` without reasons is reported
    as ``unspecified``. A step that passes on more than it takes in (``out + dropped > in``, e.g. a writer
    making several samples per input) gets the surplus as ``added``. Steps that count nothing are skipped.
    """
    stages: dict[str, dict[str, Any]] = {}
    for step in steps:
        counters = {k: _metric_total(v) for k, v in (step.get("stats") or {}).items()}
        dropped = {k[len("dropped_") :]: v for k, v in counters.items() if k.startswith("dropped_") and v}
        if counters.get("dropped") and not dropped:
            dropped = {"unspecified": counters["dropped"]}
        stage: dict[str, Any] = {}
        if "total" in counters:
            stage["in"] = counters["total"]
        out = counters.get("forwarded", counters.get("documents"))
        if out is not None:
            stage["out"] = out
        if dropped:
            stage["dropped"] = dropped
        if "in" in stage and "out" in stage and stage["out"] + sum(dropped.values()) > stage["in"]:
            stage["added"] = stage["out"] + sum(dropped.values()) - stage["in"]
        if stage:
            name = _clean_step_name(str(step.get("name", f"step {len(stages)}")))
            while name in stages:
                name += "'"
            stages[name] = stage
    return stages


def _metric_total(value: Any) -> int:
    if isinstance(value, Mapping):
        return int(value.get("total", 0))
    return int(value or 0)


def _clean_step_name(name: str) -> str:
    """``"🔻 - FILTER: 🎯 Quality"`` → ``"FILTER: Quality"``."""
    text = re.sub(r"[^\w\s:.,()/+-]", "", name)
    return re.sub(r"\s+", " ", text.strip(" -")).strip()


def _model_name(value: Any) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, Mapping):
        model = value.get("model") or value.get("name")
        backend = value.get("backend")
        return f"{model} ({backend})" if model and backend else (str(model) if model else None)
    return str(value)
